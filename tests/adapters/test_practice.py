"""``mlprims grade --primitive lora_linear``: correct learner files in NumPy and torch and peft's
own LoraLayer pass every property; the classic mistakes fail the property that names them.

Graded in this process through the command line with a few hypothesis examples per property
(tests/tools/test_practice.py tests the grader itself; the template of every spec too).
"""

from __future__ import annotations

import pathlib
import re

import pytest

from mlprims.tools import cli
from mlprims.tools.practice import specs

NUMPY = """\
import math

import numpy as np

import mlprims


def lora_linear(x, weight, bias, lora, /, *, alpha, dropout_p=0.0, key=None, use_rslora=False):
    r = lora["A"].shape[1]
    s = alpha / math.sqrt(r) if use_rslora else alpha / r
    h = x
    if dropout_p > 0:
        keep = mlprims.random.bernoulli(key, 1 - dropout_p, x.shape)
        h = np.where(keep, x / (1 - dropout_p), 0)
    y = x @ weight
    if bias is not None:
        y = y + bias
    return y + (h @ lora["A"]) @ lora["B"] * s
"""

TORCH = """\
import math

import torch

import mlprims


def lora_linear(x, weight, bias, lora, /, *, alpha, dropout_p=0.0, key=None, use_rslora=False):
    r = lora["A"].shape[1]
    s = alpha / math.sqrt(r) if use_rslora else alpha / r
    h = x
    if dropout_p > 0:
        keep = mlprims.random.bernoulli(key, 1 - dropout_p, tuple(x.shape))
        h = torch.where(keep, x / (1 - dropout_p), torch.zeros_like(x))
    y = x @ weight
    if bias is not None:
        y = y + bias
    return y + (h @ lora["A"]) @ lora["B"] * s
"""

#: peft's own LoraLayer around a torch nn.Linear; its nn.Dropout (torch's generator) replaced by
#: the mask the spec draws, so that the dropout property compares the same mask.
PEFT = """\
import peft
import torch

import mlprims


class _Mask(torch.nn.Module):
    def __init__(self, p, key):
        super().__init__()
        self.p, self.key = p, key

    def forward(self, x):
        keep = mlprims.random.bernoulli(self.key, 1 - self.p, tuple(x.shape))
        return torch.where(keep, x / (1 - self.p), torch.zeros_like(x))


class _Model(torch.nn.Module):
    def __init__(self, linear):
        super().__init__()
        self.proj = linear

    def forward(self, x):
        return self.proj(x)


def lora_linear(x, weight, bias, lora, /, *, alpha, dropout_p=0.0, key=None, use_rslora=False):
    d_in, d_out = weight.shape
    linear = torch.nn.Linear(d_in, d_out, bias=bias is not None, dtype=x.dtype)
    config = peft.LoraConfig(r=lora["A"].shape[1], lora_alpha=alpha, target_modules=["proj"],
                             lora_dropout=dropout_p, use_rslora=use_rslora)
    model = peft.get_peft_model(_Model(linear), config)
    layer = model.base_model.model.proj
    with torch.no_grad():
        layer.base_layer.weight.copy_(weight.T)
        if bias is not None:
            layer.base_layer.bias.copy_(bias)
        layer.lora_A["default"].weight.copy_(lora["A"].T)
        layer.lora_B["default"].weight.copy_(lora["B"].T)
        if dropout_p > 0:
            layer.lora_dropout["default"] = _Mask(dropout_p, key)
        return model(x)
"""

SCALED = "(N, D_in) input, r 2 to 4"
RSLORA = "rsLoRA (use_rslora=True)"
DROPOUT = "dropout on the LoRA input"

#: The classic dropout mistake: the layer's output dropped, not the LoRA branch's input.
DROPPED_OUTPUT = """\
    out = y + (x @ lora["A"]) @ lora["B"] * s
    if dropout_p > 0:
        keep = mlprims.random.bernoulli(key, 1 - dropout_p, out.shape)
        out = np.where(keep, out / (1 - dropout_p), 0)
    return out
"""

#: A mistake: the correct file, one edit, the property that must catch it, words of its hint.
WRONG = {
    "numpy-alpha-not-over-r": (NUMPY, "else alpha / r", "else alpha", SCALED, "not by alpha"),
    "numpy-no-scaling": (NUMPY, " * s\n", "\n", SCALED, "never left unscaled"),
    "numpy-rslora-ignored": (NUMPY, "if use_rslora else", "if False else", RSLORA, "sqrt(r)"),
    "numpy-dropout-on-the-output": (
        NUMPY,
        '    return y + (h @ lora["A"]) @ lora["B"] * s\n',
        DROPPED_OUTPUT,
        DROPOUT,
        "the output is never dropped",
    ),
    "torch-alpha-not-over-r": (TORCH, "else alpha / r", "else alpha", SCALED, "not by alpha"),
    "torch-dropout-without-rescaling": (
        TORCH,
        "x / (1 - dropout_p)",
        "x",
        DROPOUT,
        "x / (1 - dropout_p)",
    ),
}


def _grade(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], source: str, *options: str
) -> tuple[int, str]:
    path = tmp_path / "learner.py"
    path.write_text(source)
    args = ["grade", str(path), "--primitive", "lora_linear", "--examples", "6", "--in-process"]
    code = cli.main([*args, *options])
    return code, capsys.readouterr().out


def _verdicts(out: str) -> dict[str, str]:
    rows = (re.match(r"^\s*(\S.*?)\s{2,}(passed|FAILED)(\s|$)", line) for line in out.splitlines())
    return {row[1]: row[2] for row in rows if row}


@pytest.mark.parametrize("source", [NUMPY, TORCH, PEFT], ids=["numpy", "torch", "peft"])
def test_a_correct_file_passes_every_property(tmp_path, capsys, source: str) -> None:
    pytest.importorskip("torch")
    if source is PEFT:
        pytest.importorskip("peft")
    code, out = _grade(tmp_path, capsys, source)
    count = len(specs.spec("lora_linear").properties)
    assert code == 0, out
    assert len(_verdicts(out)) == count and set(_verdicts(out).values()) == {"passed"}
    assert f"score: {count}/{count} properties passed (100%)" in out


@pytest.mark.parametrize("wrong", list(WRONG))
def test_a_classic_mistake_fails_the_property_that_names_it(tmp_path, capsys, wrong: str) -> None:
    source, old, new, caught_by, hint = WRONG[wrong]
    if source is TORCH:
        pytest.importorskip("torch")
    assert old in source, "the mistake must be an edit of the correct file"
    code, out = _grade(tmp_path, capsys, source.replace(old, new, 1), "--no-shrink")
    assert code == 1, out
    assert _verdicts(out)[caught_by] == "FAILED", out
    assert f"first failure: {caught_by} (counterexample as drawn)" in out
    shown = next(line for line in out.splitlines() if line.startswith("  hint: "))
    assert hint in shown, shown


def test_the_mistakes_fail_nothing_else(tmp_path, capsys) -> None:
    """Scaling by alpha is wrong everywhere but dropout's own mistakes are wrong only there."""
    source, old, new, _, _ = WRONG["numpy-dropout-on-the-output"]
    _, out = _grade(tmp_path, capsys, source.replace(old, new, 1), "--no-shrink")
    assert [p for p, v in _verdicts(out).items() if v == "FAILED"] == [DROPOUT]
