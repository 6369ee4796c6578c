"""scaled_dot_product_attention against ``flax.linen.dot_product_attention``, called on the same
float32 inputs: Flax's (B, T, N, H) layout, its boolean mask (True = attend, as here), its
additive bias and its ``make_causal_mask``; and the one case where they differ on purpose.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlprims import scaled_dot_product_attention
from mlprims.testing import assert_close

jax = pytest.importorskip("jax")
nn = pytest.importorskip("flax.linen")


def _heads_first(a: np.ndarray) -> np.ndarray:
    """(B, T, N, H), Flax's layout, to (B, N, T, H), mlprims' (torch's)."""
    return np.swapaxes(a, 1, 2)


@given(
    case=st.sampled_from(("plain", "mask", "bias", "mask_and_bias")),
    batch=st.integers(1, 2),
    heads=st.integers(1, 3),
    length_q=st.integers(1, 6),
    length_k=st.integers(1, 7),
    dim=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_dot_product_attention(
    case: str, batch: int, heads: int, length_q: int, length_k: int, dim: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((batch, length_q, heads, dim), dtype=np.float32)
    k = rng.standard_normal((batch, length_k, heads, dim), dtype=np.float32)
    v = rng.standard_normal((batch, length_k, heads, dim), dtype=np.float32)
    ours, theirs = {}, {}
    if "mask" in case:  # (B, 1, T, S); every query keeps a key (see the test below)
        mask = rng.random((batch, 1, length_q, length_k)) < 0.6
        mask[..., rng.integers(length_k)] = True
        ours["mask"] = theirs["mask"] = mask
    if "bias" in case:
        ours["bias"] = theirs["bias"] = rng.normal(0, 2, (heads, length_q, length_k)).astype(
            np.float32
        )
    expected = nn.dot_product_attention(q, k, v, deterministic=True, **theirs)  # (B, T, N, H)
    got = scaled_dot_product_attention(_heads_first(q), _heads_first(k), _heads_first(v), **ours)
    assert_close(got, _heads_first(np.asarray(expected)), scale=5)


def test_causal_mask() -> None:
    """Flax's make_causal_mask is mlprims' is_causal (equal lengths: no alignment to choose)."""
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 2, 9, 4, 8), dtype=np.float32)
    mask = nn.make_causal_mask(np.ones((2, 9)))  # (B, 1, T, T)
    expected = nn.dot_product_attention(q, k, v, mask=mask, deterministic=True)
    got = scaled_dot_product_attention(*map(_heads_first, (q, k, v)), is_causal=True)
    assert_close(got, _heads_first(np.asarray(expected)), scale=5)


def test_a_fully_masked_query_differs_on_purpose() -> None:
    """Flax fills masked scores with float32's lowest value: a query that sees no key gets
    the mean of the values. mlprims (like torch SDPA) gives it 0; the other rows agree."""
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 1, 3, 2, 4), dtype=np.float32)
    mask = np.ones((1, 1, 3, 3), dtype=bool)
    mask[..., 1, :] = False  # query 1 sees nothing
    expected = np.asarray(nn.dot_product_attention(q, k, v, mask=mask, deterministic=True))
    got = scaled_dot_product_attention(*map(_heads_first, (q, k, v)), mask=mask)
    assert_close(got[:, :, 1], np.zeros((1, 2, 4), np.float32))
    assert_close(expected[:, 1], v.mean(axis=1))
    rows = [0, 2]
    assert_close(got[:, :, rows], _heads_first(expected)[:, :, rows], scale=5)
