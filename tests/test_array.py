"""The shared helpers of mlprims/_array.py: namespaces, errors that name the argument."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import torch

from mlprims._array import concrete_any, namespace, resolve_dtype, statistics_dtype


class TestNamespace:
    def test_skips_none_and_returns_the_common_namespace(self, xb) -> None:
        x = xb.asarray(np.zeros(2))
        assert namespace(x, None, x) is namespace(x)

    def test_a_list_is_named(self) -> None:
        with pytest.raises(TypeError, match="`mask` must be an array"):
            namespace(np.zeros(2), [True, False], names=("x", "mask"))

    def test_mixed_frameworks_name_the_second_argument(self) -> None:
        with pytest.raises(TypeError, match="`k` must be an array of the same framework as `q`"):
            namespace(np.zeros(2), torch.zeros(2), names=("q", "k"))


class TestConcreteAny:
    def test_eager_values_are_read(self, xb) -> None:
        if xb.is_jit:
            values = jax.jit(lambda c: jax.numpy.asarray(concrete_any(c, xp=xb.xp) is None))(
                xb.asarray(np.array([True]))
            )
            assert bool(values)  # unknown while tracing
            return
        assert concrete_any(xb.asarray(np.array([False, True])), xp=xb.xp) is True
        assert concrete_any(xb.asarray(np.array([False, False])), xp=xb.xp) is False


class TestDtypes:
    def test_statistics_dtype(self, xb) -> None:
        xp = xb.xp
        assert statistics_dtype(xp.float64, xp=xp) == xp.float64
        assert statistics_dtype(xp.float32, xp=xp) == xp.float32
        if hasattr(xp, "float16"):  # the standard (and array_api_strict) has no float16
            assert statistics_dtype(xp.float16, xp=xp) == xp.float32

    def test_resolve_dtype(self, xb) -> None:
        xp = xb.xp
        assert resolve_dtype("float32", xp=xp) == xp.float32
        assert resolve_dtype(np.float64, xp=xp) == xp.float64
        with pytest.raises(ValueError, match="`dtype` must name a dtype"):
            resolve_dtype("float33", xp=xp)
