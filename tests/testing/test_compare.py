"""The one comparison (``mlprims.testing.compare``) the tests, ``check`` and ``grade`` share."""

from __future__ import annotations

import ast
import pathlib
from typing import NamedTuple

import numpy as np
import pytest

from mlprims.testing import assert_close, compare, leaves, to_numpy, tolerance

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Pair(NamedTuple):
    first: np.ndarray
    second: np.ndarray


def test_the_rule_is_relative_elementwise_plus_the_outputs_magnitude() -> None:
    """|a - e| <= rtol |e| + atol (1 + max|e|): an error of 1e-4 passes next to a 100 in float32
    (atol 2e-6 * 101 = 2e-4), fails where the largest value is 1."""
    rtol, atol = tolerance("float32").values()
    expected = np.array([100.0, 0.0], np.float32)
    assert compare(expected + np.float32([0, 1e-4]), expected).passed
    small = np.array([1.0, 0.0], np.float32)
    verdict = compare(small + np.float32([0, 1e-4]), small)
    assert not verdict.passed
    assert verdict.allowed == pytest.approx(atol * 2.0)
    assert verdict.ratio == pytest.approx(1e-4 / (atol * 2.0), rel=1e-3)
    assert "max error 0.0001 > tolerance 4e-06 at index (1,)" in verdict.message
    assert rtol > 0


def test_float64_is_tighter_and_scale_loosens() -> None:
    e = np.array([1.0, 2.0])
    assert not compare(e + 1e-9, e).passed
    assert compare(e + 1e-9, e, "float32").passed
    assert compare(e + 1e-9, e, scale=1e3).passed


def test_nan_and_infinities() -> None:
    e = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert compare(e.copy(), e).passed
    nan = compare(np.array([np.nan, np.inf, -np.inf, np.nan]), e)
    assert not nan.passed and nan.ratio == np.inf
    assert nan.message == "NaN where the reference is finite in 1 of 4 elements"
    flipped = compare(np.array([np.nan, -np.inf, -np.inf, 1.0]), e)
    assert not flipped.passed and "infinity" in flipped.message


def test_integers_are_exact_whatever_the_dtype_says() -> None:
    verdict = compare(np.array([1, 2, 3]), np.array([1, 2, 4]), "float32", scale=1e9)
    assert not verdict.passed and verdict.message.startswith("values differ")


def test_shapes_and_structure() -> None:
    assert "shape (3,), expected (4,)" in compare(np.zeros(3), np.zeros(4)).message
    assert compare((np.zeros(2),), (np.zeros(2), np.zeros(1))).message == "1 outputs, expected 2"
    verdict = compare((np.zeros(2), np.ones(2)), (np.zeros(2), np.zeros(2)))
    assert verdict.message.startswith("output 1: max error 1")


def test_assert_close_raises_the_message_and_takes_lists() -> None:
    assert_close(np.array([0.5, 1.5]), [0.5, 1.5])
    with pytest.raises(AssertionError, match=r"max error 0\.5 > tolerance .* at index \(0,\)"):
        assert_close(np.array([1.0, 1.5]), [0.5, 1.5])
    assert_close(np.array([1.0, 1.5]), [0.5, 1.5], atol=0.3)


def test_to_numpy_keeps_the_structure() -> None:
    tree = to_numpy({"a": Pair(np.zeros(1), np.ones(2)), "b": [1, None, "s"]})
    assert isinstance(tree["a"], Pair) and tree["a"].second.shape == (2,)
    assert tree["b"] == [1, None, "s"]
    assert [leaf.shape for leaf in leaves(tree["a"])] == [(1,), (2,)]


def test_to_numpy_converts_each_framework(xb) -> None:
    out = to_numpy((xb.asarray(np.arange(3.0)), {"k": xb.asarray(np.ones(2))}))
    assert type(out[0]) is np.ndarray and type(out[1]["k"]) is np.ndarray
    np.testing.assert_array_equal(out[0], np.arange(3.0))


def _defines(path: pathlib.Path, names: set[str]) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names
    }


def test_one_comparison_and_one_tree_walker_in_the_package() -> None:
    """check, grade, bench and differences use mlprims.testing's: no module defines its own."""
    own = {"_compare", "_leaves", "to_numpy", "_to_numpy", "assert_close", "compare"}
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "mlprims").rglob("*.py")
        if path.name != "_compare.py"
        for name in _defines(path, own)
    }
    allowed = {  # thin wrappers over testing.to_numpy for inputs of no known backend
        "mlprims/tools/practice/grading.py: _to_numpy",
        "mlprims/tools/differences/_show.py: _to_numpy",
        # grading's `_compare` names a learner's outputs and then calls testing.compare
        "mlprims/tools/practice/grading.py: _compare",
    }
    assert found <= allowed, sorted(found - allowed)
