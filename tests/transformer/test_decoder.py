"""The decoder layer: equal to torch's nn.TransformerDecoderLayer, its init, dropout, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import random
from mlprims.testing import assert_close

#: The hypothesis comparison with torch runs here; the fixed causal case runs on every backend.
TORCH_COMPARISON = ("numpy", "torch")


def torch_layer(torch, d_model, heads, d_ff, norm_first, activation, seed=0):
    """A float64 torch layer in eval mode with every parameter drawn at random."""
    torch.manual_seed(seed)
    module = torch.nn.TransformerDecoderLayer(
        d_model, heads, d_ff, batch_first=True, norm_first=norm_first, activation=activation
    )
    module = module.double().eval()
    with torch.no_grad():
        for tensor in module.parameters():
            tensor.add_(0.3 * torch.randn_like(tensor))
    return module


def move(xb, tree):
    """A parameter dict (nested, None allowed) as arrays of the backend under test."""
    if isinstance(tree, dict):
        return {k: move(xb, v) for k, v in tree.items()}
    return None if tree is None else xb.asarray(tree)


def torch_mask(rng, kind, t, s):
    """torch's attn_mask (True = masked, or float added) with key 0 always visible."""
    if kind is None:
        return None
    masked = rng.random((t, s)) < 0.4
    masked[:, 0] = False
    return masked if kind == "bool" else np.where(masked, -np.inf, rng.normal(size=(t, s)))


def torch_padding(rng, padded, batch, s):
    if not padded:
        return None
    padding = rng.random((batch, s)) < 0.4
    padding[:, 0] = False
    return padding


def translate(attn_mask, padding):
    """Our mask from torch's attn_mask and key padding mask (both True = masked)."""
    if attn_mask is None and padding is None:
        return None
    if attn_mask is not None and attn_mask.dtype != bool:
        pad = 0.0 if padding is None else np.where(padding[:, None, None, :], -np.inf, 0.0)
        return attn_mask + pad
    keep = True if attn_mask is None else ~attn_mask
    return keep & (True if padding is None else ~padding[:, None, None, :])


def as_torch(torch, a):
    return None if a is None else torch.from_numpy(a)


@pytest.mark.backends(*TORCH_COMPARISON, reason="the fixed causal case runs on all")
@pytest.mark.filterwarnings("ignore::UserWarning")
@given(
    heads=st.integers(1, 3),
    head_dim=st.integers(1, 4),
    d_ff=st.integers(1, 8),
    t=st.integers(1, 4),
    s=st.integers(1, 5),
    norm_first=st.booleans(),
    activation=st.sampled_from(["relu", "gelu"]),
    tgt_kind=st.sampled_from([None, "bool", "float", "causal"]),
    memory_kind=st.sampled_from([None, "bool", "float"]),
    tgt_padded=st.booleans(),
    memory_padded=st.booleans(),
)
def test_equals_torch_decoder_layer(
    xb,
    heads,
    head_dim,
    d_ff,
    t,
    s,
    norm_first,
    activation,
    tgt_kind,
    memory_kind,
    tgt_padded,
    memory_padded,
) -> None:
    torch = pytest.importorskip("torch")
    d_model = heads * head_dim
    module = torch_layer(torch, d_model, heads, d_ff, norm_first, activation)
    rng = np.random.default_rng(t * 100 + s * 10 + d_model)
    x, memory = rng.normal(size=(2, t, d_model)), rng.normal(size=(2, s, d_model))
    if tgt_kind == "causal":
        tgt_mask = np.triu(np.ones((t, t), dtype=bool), 1)
    else:
        tgt_mask = torch_mask(rng, tgt_kind, t, t)
    tgt_padding = torch_padding(rng, tgt_padded, 2, t)
    memory_mask = torch_mask(rng, memory_kind, t, s)
    memory_padding = torch_padding(rng, memory_padded, 2, s)
    expected = module(
        torch.from_numpy(x),
        torch.from_numpy(memory),
        tgt_mask=as_torch(torch, tgt_mask),
        memory_mask=as_torch(torch, memory_mask),
        tgt_key_padding_mask=as_torch(torch, tgt_padding),
        memory_key_padding_mask=as_torch(torch, memory_padding),
        tgt_is_causal=tgt_kind == "causal",
    )
    params = mlprims.from_torch_transformer_decoder_layer(
        module.state_dict(), backend=xb.backend.name
    )
    ours_mask, ours_memory_mask = (
        translate(tgt_mask, tgt_padding),
        translate(memory_mask, memory_padding),
    )
    out = mlprims.transformer_decoder_layer(
        params,
        xb.asarray(x),
        xb.asarray(memory),
        num_heads=heads,
        mask=None if ours_mask is None else xb.asarray(ours_mask),
        memory_mask=None if ours_memory_mask is None else xb.asarray(ours_memory_mask),
        norm_first=norm_first,
        activation=activation,
    )
    assert_close(xb.to_numpy(out), expected.detach().numpy(), "float64", scale=10.0)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_causal_flag_equals_torch_causal_mask(xb) -> None:
    torch = pytest.importorskip("torch")
    module = torch_layer(torch, 8, 2, 12, False, "relu", seed=2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 8)).astype(np.float32)
    memory = rng.normal(size=(2, 3, 8)).astype(np.float32)
    padding = np.array([[False, False, True], [False, False, False]])
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    expected = module(
        torch.from_numpy(x).double(),
        torch.from_numpy(memory).double(),
        tgt_mask=causal,
        tgt_is_causal=True,
        memory_key_padding_mask=torch.from_numpy(padding),
    )
    params = mlprims.from_torch_transformer_decoder_layer(
        {k: v.float() for k, v in module.state_dict().items()}, backend="numpy"
    )
    out = mlprims.transformer_decoder_layer(
        move(xb, params),
        xb.asarray(x),
        xb.asarray(memory),
        num_heads=2,
        is_causal=True,
        memory_mask=xb.asarray(~padding[:, None, None, :]),
    )
    assert_close(xb.to_numpy(out), expected.detach().numpy(), "float32", scale=10.0)


def test_init_shapes() -> None:
    p = mlprims.init_transformer_decoder_layer(random.key(0), 12, 3, 20, dtype="float64")
    assert p["w1"].shape == (12, 20) and p["w2"].shape == (20, 12)
    assert p["cross_attn"]["wq"].shape == (12, 12) and p["norm3"]["weight"].shape == (12,)
    assert not np.array_equal(p["self_attn"]["wq"], p["cross_attn"]["wq"])
    assert p["b1"].dtype == np.float64


def test_dropout_same_key_same_output_on_numpy_and_torch() -> None:
    torch = pytest.importorskip("torch")
    p = mlprims.init_transformer_decoder_layer(random.key(0), 8, 2, 16)
    rng = np.random.default_rng(0)
    x, memory = rng.normal(size=(2, 3, 8)), rng.normal(size=(2, 4, 8))
    x, memory = x.astype(np.float32), memory.astype(np.float32)

    def run(params, x, memory, key, p=0.3):
        return mlprims.transformer_decoder_layer(
            params, x, memory, num_heads=2, dropout_p=p, key=key, is_causal=True
        )

    expected = run(p, x, memory, random.key(1))
    moved = {
        k: {n: None if a is None else torch.from_numpy(a) for n, a in v.items()}
        if isinstance(v, dict)
        else torch.from_numpy(v)
        for k, v in p.items()
    }
    ours = run(moved, torch.from_numpy(x), torch.from_numpy(memory), random.key(1, backend="torch"))
    assert_close(ours.numpy(), expected, "float32")
    assert not np.allclose(expected, run(p, x, memory, None, p=0.0))


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"memory": np.ones((2, 5, 4), np.float32)}, ValueError,
         r"`memory` must have shape \(B, S, E\) = \(2, S, 8\), got \(2, 5, 4\)"),
        ({"memory": np.ones((2, 5, 8), np.int64)}, TypeError, r"`memory`"),
        ({"memory": np.ones((2, 5, 8), np.float64)}, TypeError,
         r"`memory` must have the dtype of `x` \(float32\), got float64"),
        ({"memory_mask": np.ones((3, 5), np.int32)}, TypeError, r"`memory_mask` must be boolean"),
        ({"num_heads": 3}, ValueError, r"`d_model` \(8\) must be divisible by `num_heads` \(3\)"),
        ({"eps": -1.0}, ValueError, r"`eps`"),
    ],
)  # fmt: skip
def test_bad_input(options, error, match) -> None:
    p = mlprims.init_transformer_decoder_layer(random.key(0), 8, 2, 16)
    options = {"memory": np.ones((2, 5, 8), np.float32), "num_heads": 2, **options}
    memory = options.pop("memory")
    with pytest.raises(error, match=match):
        mlprims.transformer_decoder_layer(p, np.ones((2, 3, 8), np.float32), memory, **options)
