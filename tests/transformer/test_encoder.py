"""The encoder layer: equal to torch's nn.TransformerEncoderLayer, its init, dropout, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlprims
from mlprims import random
from mlprims.testing import assert_close

#: The hypothesis comparison with torch runs here; the fixed causal case runs on every backend
#: (jax_jit included: a new shape is a new compilation, too slow for hypothesis).
TORCH_COMPARISON = ("numpy", "torch")


def torch_layer(torch, d_model, heads, d_ff, norm_first, activation, seed=0):
    """A float64 torch layer in eval mode with every parameter (biases included) drawn at random."""
    torch.manual_seed(seed)
    module = torch.nn.TransformerEncoderLayer(
        d_model, heads, d_ff, batch_first=True, norm_first=norm_first, activation=activation
    )
    module = module.double().eval()
    with torch.no_grad():  # torch zeroes the attention biases and sets the norms to 1, 0
        for tensor in module.parameters():
            tensor.add_(0.3 * torch.randn_like(tensor))
    return module


def translate(attn_mask, padding):
    """Our `mask` from torch's src_mask (bool True = masked, or float added) and padding mask."""
    if attn_mask is None and padding is None:
        return None
    if attn_mask is not None and attn_mask.dtype != bool:  # float: padding becomes -inf
        pad = 0.0 if padding is None else np.where(padding[:, None, None, :], -np.inf, 0.0)
        return attn_mask + pad
    keep = True if attn_mask is None else ~attn_mask
    return keep & (True if padding is None else ~padding[:, None, None, :])


def move(xb, tree):
    """A parameter dict (nested, None allowed) as arrays of the backend under test."""
    if isinstance(tree, dict):
        return {k: move(xb, v) for k, v in tree.items()}
    return None if tree is None else xb.asarray(tree)


def draw_masks(rng, kind, batch, t, padded):
    """Torch masks that never hide key 0, so that no row is empty (torch gives NaN there)."""
    attn = None
    if kind in ("bool", "float"):
        attn = rng.random((t, t)) < 0.4  # True = masked
        attn[:, 0] = False
        if kind == "float":
            attn = np.where(attn, -np.inf, rng.normal(size=(t, t)))
    elif kind == "causal":
        attn = np.triu(np.ones((t, t), dtype=bool), 1)
    padding = None
    if padded:
        padding = rng.random((batch, t)) < 0.4
        padding[:, 0] = False
    return attn, padding


@pytest.mark.backends(*TORCH_COMPARISON, reason="the fixed causal case runs on all")
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch: enable_nested_tensor, mask types
@given(
    heads=st.integers(1, 3),
    head_dim=st.integers(1, 4),
    d_ff=st.integers(1, 8),
    t=st.integers(1, 5),
    norm_first=st.booleans(),
    activation=st.sampled_from(["relu", "gelu"]),
    mask_kind=st.sampled_from([None, "bool", "float", "causal"]),
    padded=st.booleans(),
)
def test_equals_torch_encoder_layer(
    xb, heads, head_dim, d_ff, t, norm_first, activation, mask_kind, padded
) -> None:
    torch = pytest.importorskip("torch")
    d_model = heads * head_dim
    module = torch_layer(torch, d_model, heads, d_ff, norm_first, activation)
    rng = np.random.default_rng(t * 100 + d_model)
    x = rng.normal(size=(2, t, d_model))
    attn, padding = draw_masks(rng, mask_kind, 2, t, padded)
    expected = module(
        torch.from_numpy(x),
        src_mask=None if attn is None else torch.from_numpy(attn),
        src_key_padding_mask=None if padding is None else torch.from_numpy(padding),
        is_causal=mask_kind == "causal",
    )
    params = mlprims.from_torch_transformer_encoder_layer(
        module.state_dict(), backend=xb.backend.name
    )
    mask = translate(attn, padding)
    out = mlprims.transformer_encoder_layer(
        params,
        xb.asarray(x),
        num_heads=heads,
        mask=None if mask is None else xb.asarray(mask),
        norm_first=norm_first,
        activation=activation,
    )
    assert_close(xb.to_numpy(out), expected.detach().numpy(), "float64", scale=10.0)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_causal_flag_equals_torch_causal_mask(xb) -> None:
    torch = pytest.importorskip("torch")
    module = torch_layer(torch, 8, 2, 12, True, "gelu", seed=1)
    x = np.random.default_rng(1).normal(size=(2, 4, 8)).astype(np.float32)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    expected = module(torch.from_numpy(x).double(), src_mask=causal, is_causal=True)
    params = mlprims.from_torch_transformer_encoder_layer(
        {k: v.float() for k, v in module.state_dict().items()}, backend="numpy"
    )
    params = move(xb, params)
    out = mlprims.transformer_encoder_layer(
        params, xb.asarray(x), num_heads=2, is_causal=True, norm_first=True, activation="gelu"
    )
    assert out.dtype == xb.asarray(x).dtype
    assert_close(xb.to_numpy(out), expected.detach().numpy(), "float32", scale=10.0)


class TestInit:
    def test_shapes_and_torch_laws(self) -> None:
        p = mlprims.init_transformer_encoder_layer(random.key(0), 16, 4, 64)
        assert p["w1"].shape == (16, 64) and p["b1"].shape == (64,)
        assert p["w2"].shape == (64, 16) and p["b2"].shape == (16,)
        assert 0.9 / 4 < np.abs(p["w1"]).max() <= 1 / 4  # U(-1/sqrt(16), 1/sqrt(16))
        assert 0.9 / 8 < np.abs(p["b2"]).max() <= 1 / 8  # U(-1/sqrt(64), 1/sqrt(64))
        assert np.all(p["norm1"]["weight"] == 1) and np.all(p["norm2"]["bias"] == 0)
        xavier = math.sqrt(6 / (16 + 3 * 16))
        assert np.abs(p["self_attn"]["wq"]).max() <= xavier

    def test_without_bias_runs_like_torch(self) -> None:
        torch = pytest.importorskip("torch")
        p = mlprims.init_transformer_encoder_layer(random.key(0), 8, 2, 4, bias=False)
        assert "b1" not in p and p["norm1"]["bias"] is None and "bq" not in p["self_attn"]
        module = torch.nn.TransformerEncoderLayer(8, 2, 4, batch_first=True, bias=False).eval()
        with torch.no_grad():
            for tensor in module.parameters():
                tensor.add_(0.3 * torch.randn_like(tensor))
        x = torch.randn(1, 3, 8)
        params = mlprims.from_torch_transformer_encoder_layer(module.state_dict())
        assert "b1" not in params and params["norm1"]["bias"] is None
        out = mlprims.transformer_encoder_layer(params, x, num_heads=2)
        assert_close(out.detach().numpy(), module(x).detach().numpy(), "float32", scale=10.0)

    @pytest.mark.backends(
        exclude=("jax", "jax_jit"), reason="mlprims.random's own tests cover JAX's bits"
    )
    def test_same_key_same_parameters_on_every_backend(self, xb) -> None:
        ours = mlprims.init_transformer_encoder_layer(
            random.key(5), 8, 2, 4, backend=xb.backend.name
        )
        expected = mlprims.init_transformer_encoder_layer(random.key(5), 8, 2, 4)
        assert_close(xb.to_numpy(ours["w2"]), expected["w2"], "float32")
        assert_close(xb.to_numpy(ours["self_attn"]["wv"]), expected["self_attn"]["wv"], "float32")


class TestDropout:
    @pytest.mark.backends(
        exclude=("jax",), reason="jax_jit runs the same code, compiled once instead of op by op"
    )
    def test_same_key_same_output_on_every_backend(self, xb) -> None:
        p = mlprims.init_transformer_encoder_layer(random.key(0), 8, 2, 16, dtype="float64")
        x = np.random.default_rng(0).normal(size=(2, 5, 8))

        def run(params, x, key, p):
            return mlprims.transformer_encoder_layer(params, x, num_heads=2, dropout_p=p, key=key)

        key = random.key(7, backend=xb.backend.name)
        ours = xb.to_numpy(run(move(xb, p), xb.asarray(x), key, 0.5))
        expected = run(p, x, random.key(7), 0.5)
        assert_close(ours, expected, "float64")
        assert not np.allclose(expected, run(p, x, random.key(7), 0.0))
        assert not np.allclose(expected, run(p, x, random.key(8), 0.5))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda p, x: mlprims.init_transformer_encoder_layer(random.key(0), 10, 4, 8),
         ValueError, r"`d_model` \(10\) must be divisible by `num_heads` \(4\)"),
        (lambda p, x: mlprims.transformer_encoder_layer(p, x, num_heads=3),
         ValueError, r"`d_model` \(8\) must be divisible by `num_heads` \(3\)"),
        (lambda p, x: mlprims.transformer_encoder_layer(p, x[..., :4], num_heads=2),
         ValueError, r"`x` must have shape \(B, L, E\) with E = d_model = 8"),
        (lambda p, x: mlprims.transformer_encoder_layer(p, x, num_heads=2, activation="tanh"),
         ValueError, r"`activation`"),
        (lambda p, x: mlprims.transformer_encoder_layer(p, x, num_heads=2, dropout_p=0.1),
         ValueError, r"`key` is required"),
        (lambda p, x: mlprims.transformer_encoder_layer(
            p, x, num_heads=2, mask=np.ones((3, 3), dtype=np.int64)),
         TypeError, r"`mask` must be boolean \(True = attend\) or floating"),
        (lambda p, x: mlprims.transformer_encoder_layer({"w1": p["w1"]}, x, num_heads=2),
         TypeError, r"`params` must be a dict with 'self_attn'"),
        (lambda p, x: mlprims.from_torch_transformer_encoder_layer({"linear1.weight": p["w1"]}),
         ValueError, r"`state_dict` lacks"),
    ],
)  # fmt: skip
def test_bad_input(call, error, match) -> None:
    p = mlprims.init_transformer_encoder_layer(random.key(0), 8, 2, 16)
    x = np.ones((2, 3, 8), dtype=np.float32)
    with pytest.raises(error, match=match):
        call(p, x)
