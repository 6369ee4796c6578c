"""The tiny language model (mlprims/models/lm.py): the float64 reference, the KV cache against
full recomputation on every backend, the step function under mlprims.generate (jax.jit
included), gradients through torch autograd and jax.grad, and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import mlprims
from mlprims import random
from mlprims.testing import assert_close
from mlprims.testing.oracles.transformer import lm_reference

CONFIG = mlprims.LMConfig(
    vocab=13, d_model=8, n_layers=2, n_heads=2, n_kv_heads=1, d_ff=12, max_len=10
)


def numpy_params(dtype: str = "float32", seed: int = 0) -> dict:
    """Parameters with weights larger than init_lm's 0.02, so that every part of the model
    matters, and norm weights away from 1."""
    p = mlprims.init_lm(random.key(seed), CONFIG, dtype="float64")
    rng = np.random.default_rng(seed)

    def spread(name, a):
        if name.endswith("norm"):
            return (1.0 + 0.3 * rng.normal(size=a.shape)).astype(dtype)
        return (a * 25.0 / np.sqrt(a.shape[0])).astype(dtype)

    return {
        "embed": spread("embed", p["embed"]),
        "norm": spread("norm", p["norm"]),
        "layers": [{k: spread(k, v) for k, v in layer.items()} for layer in p["layers"]],
    }


def move(xb, tree):
    if isinstance(tree, dict):
        return {k: move(xb, v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [move(xb, v) for v in tree]
    return xb.asarray(tree)


TOKENS = np.random.default_rng(1).integers(0, CONFIG.vocab, size=(2, 7))


def test_equals_float64_reference() -> None:
    params = numpy_params("float64")
    logits, cache = mlprims.lm(params, TOKENS, config=CONFIG)
    assert cache is None and logits.shape == (2, 7, CONFIG.vocab)
    assert_close(logits, lm_reference(params, TOKENS, CONFIG), "float64", scale=10.0)


#: Eager JAX compiles each of the model's ~100 operations for every new shape (about 10 s per
#: test on a busy machine); jax_jit runs the same code, compiled once per call.
NOT_EAGER_JAX = pytest.mark.backends(
    exclude=("jax",), reason="eager JAX compiles every operation per shape: jax_jit runs the same"
)


@NOT_EAGER_JAX
def test_cached_chunks_equal_full_recomputation(xb) -> None:
    params = move(xb, numpy_params())
    tokens = xb.asarray(TOKENS)
    full, _ = mlprims.lm(params, tokens, config=CONFIG)
    cache = mlprims.init_lm_cache(CONFIG, 2, backend=xb.backend.name)
    chunks = []
    for t0, t1 in ((0, 3), (3, 4), (4, 7)):
        logits, cache = mlprims.lm(params, tokens[:, t0:t1], config=CONFIG, cache=cache)
        chunks.append(xb.to_numpy(logits))
    assert xb.to_numpy(cache["length"]).tolist() == [7, 7]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), xb.to_numpy(full), atol=1e-5)


@NOT_EAGER_JAX
def test_generate_with_and_without_cache(xb) -> None:
    """Greedy decoding through the cached step function (the prompt prefilled, then one token
    a step; under jax_jit the loop's traced index goes through the fori_loop) gives the tokens
    of full recomputation."""
    params = move(xb, numpy_params())
    prompt = xb.asarray(TOKENS[:, :3])
    cached = mlprims.lm_step_fn(params, CONFIG)
    uncached = mlprims.lm_step_fn(params, CONFIG, cached=False)
    out = xb.to_numpy(mlprims.generate(cached, prompt, 6))
    expected = xb.to_numpy(mlprims.generate(uncached, prompt, 6))
    np.testing.assert_array_equal(out, expected)
    assert out.shape == (2, 9) and np.array_equal(out[:, :3], TOKENS[:, :3])
    assert len(set(out[:, 3:].ravel().tolist())) > 1  # the weights make the choices vary


def test_logits_to_keep_is_the_last_positions() -> None:
    params = numpy_params()
    full, _ = mlprims.lm(params, TOKENS, config=CONFIG)
    last, _ = mlprims.lm(params, TOKENS, config=CONFIG, logits_to_keep=2)
    assert last.shape == (2, 2, CONFIG.vocab)
    np.testing.assert_allclose(last, full[:, -2:], atol=1e-6)
    with pytest.raises(ValueError, match="logits_to_keep"):
        mlprims.lm(params, TOKENS, config=CONFIG, logits_to_keep=-1)


def test_step_logits_cached_equal_uncached() -> None:
    """Each step's logits, the prompt's and those of every later position, agree to 1e-5; the
    cache is as long as the buffer (7), not max_len (10)."""
    params = numpy_params()
    cached = mlprims.lm_step_fn(params, CONFIG)
    uncached = mlprims.lm_step_fn(params, CONFIG, cached=False)
    cache = None
    for index in range(3, 8):
        logits, cache = cached(TOKENS, cache, index)
        expected, _ = uncached(TOKENS, None, index)
        np.testing.assert_allclose(logits, expected, atol=1e-5)
    assert cache["length"].tolist() == [7, 7]
    assert cache["layers"][0]["k"].shape == (2, CONFIG.n_kv_heads, TOKENS.shape[1], 4)


def test_traced_index_feeds_the_missing_tokens() -> None:
    """Under jax.jit a cache holding 2 tokens and index 5 gets the 3 new ones through the
    fori_loop: the logits of position 5 and the cache equal NumPy's eager prefill."""
    jax = pytest.importorskip("jax")
    params = numpy_params()
    step = mlprims.lm_step_fn(params, CONFIG)
    _, cache = step(TOKENS, None, 2)
    expected_logits, expected_cache = step(TOKENS, None, 5)

    to_jax = jax.tree_util.Partial(jax.tree_util.tree_map, jax.numpy.asarray)
    traced = mlprims.lm_step_fn(to_jax(params), CONFIG)
    logits, new_cache = jax.jit(traced)(
        jax.numpy.asarray(TOKENS), to_jax(cache), jax.numpy.asarray(5)
    )
    np.testing.assert_allclose(logits, expected_logits, atol=1e-5)
    assert new_cache["length"].tolist() == [5, 5]
    for name in ("k", "v"):
        np.testing.assert_allclose(
            new_cache["layers"][1][name], expected_cache["layers"][1][name], atol=1e-5
        )


def test_gradients_through_torch_autograd_and_jax_grad_agree() -> None:
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    params = numpy_params("float64")
    inputs, targets = TOKENS[:, :-1], TOKENS[:, 1:]

    def loss(params, inputs, targets):
        logits, _ = mlprims.lm(params, inputs, config=CONFIG)
        return mlprims.cross_entropy(logits, targets)

    t_params = jax.tree_util.tree_map(lambda a: torch.tensor(a, requires_grad=True), params)
    t_loss = loss(t_params, torch.from_numpy(inputs), torch.from_numpy(targets))
    t_loss.backward()
    j_params = jax.tree_util.tree_map(jax.numpy.asarray, params)
    j_loss, j_grads = jax.jit(jax.value_and_grad(loss))(
        j_params, jax.numpy.asarray(inputs), jax.numpy.asarray(targets)
    )
    np.testing.assert_allclose(float(j_loss), t_loss.item(), rtol=1e-12)
    t_grads = jax.tree_util.tree_map(lambda t: t.grad.numpy(), t_params)
    flat_t, flat_j = jax.tree_util.tree_leaves(t_grads), jax.tree_util.tree_leaves(j_grads)
    assert len(flat_t) == 2 + 9 * CONFIG.n_layers
    for a, b in zip(flat_t, flat_j, strict=True):
        assert np.abs(a).max() > 0
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-9, atol=1e-12)


class TestInit:
    def test_shapes_and_laws(self) -> None:
        config = mlprims.LMConfig(vocab=50, d_model=32, n_layers=4, n_heads=4, n_kv_heads=2)
        p = mlprims.init_lm(random.key(0), config)
        assert config.d_ff == 88 and config.head_dim == 8  # 8/3 * 32 = 85.3 -> 88
        layer = p["layers"][3]
        assert layer["wk"].shape == (32, 16) and layer["w_down"].shape == (88, 32)
        assert abs(p["embed"].std() - 0.02) < 0.002
        assert abs(layer["wo"].std() - 0.02 / np.sqrt(8)) < 0.002  # GPT-2's 1/sqrt(2 L)
        assert np.all(layer["mlp_norm"] == 1) and p["embed"].dtype == np.float32

    @pytest.mark.backends(
        exclude=("jax", "jax_jit"), reason="mlprims.random's own tests cover JAX's bits"
    )
    def test_same_key_same_parameters_on_every_backend(self, xb) -> None:
        ours = mlprims.init_lm(random.key(3), CONFIG, backend=xb.backend.name)
        expected = mlprims.init_lm(random.key(3), CONFIG)
        assert_close(xb.to_numpy(ours["layers"][1]["wv"]), expected["layers"][1]["wv"], "float32")


class TestBadInput:
    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"d_model": 10, "n_heads": 4}, r"`d_model` \(10\) must be divisible by `n_heads`"),
            ({"d_model": 6, "n_heads": 2}, r"into an even head size"),
            ({"n_heads": 4, "n_kv_heads": 3}, r"`n_kv_heads` \(3\) must divide `n_heads` \(4\)"),
            ({"vocab": 0}, r"`vocab` must be >= 1"),
        ],
    )
    def test_config(self, options, match) -> None:
        with pytest.raises(ValueError, match=match):
            mlprims.LMConfig(**{"vocab": 10, **options})

    def test_tokens_outside_the_vocabulary(self) -> None:
        with pytest.raises(ValueError, match=r"`tokens` must be ids in \[0, 13\)"):
            mlprims.lm(numpy_params(), np.array([[1, 13]]), config=CONFIG)
        with pytest.raises(ValueError, match=r"`tokens` must be ids in \[0, 13\)"):
            mlprims.lm(numpy_params(), np.array([[-1, 2]]), config=CONFIG)

    def test_longer_than_max_len(self) -> None:
        params = numpy_params()
        with pytest.raises(ValueError, match=r"T = 11 tokens, over max_len = 10"):
            mlprims.lm(params, np.zeros((1, 11), dtype=np.int64), config=CONFIG)
        cache = mlprims.init_lm_cache(CONFIG, 1, backend="numpy")
        _, cache = mlprims.lm(params, np.zeros((1, 8), dtype=np.int64), config=CONFIG, cache=cache)
        with pytest.raises(ValueError, match=r"8 \+ 3 must lie in \[0, the cache capacity = 10"):
            mlprims.lm(params, np.zeros((1, 3), dtype=np.int64), config=CONFIG, cache=cache)
        short = mlprims.init_lm_cache(CONFIG, 1, capacity=4, backend="numpy")
        with pytest.raises(ValueError, match=r"0 \+ 5 must lie in \[0, the cache capacity = 4"):
            mlprims.lm(params, np.zeros((1, 5), dtype=np.int64), config=CONFIG, cache=short)
        with pytest.raises(ValueError, match=r"`capacity` \(11\) must not exceed max_len \(10\)"):
            mlprims.init_lm_cache(CONFIG, 1, capacity=11)

    def test_types(self) -> None:
        params = numpy_params()
        with pytest.raises(TypeError, match=r"`tokens` must have an? .*integ"):
            mlprims.lm(params, np.zeros((1, 3)), config=CONFIG)
        with pytest.raises(TypeError, match=r"`config` must be an LMConfig"):
            mlprims.lm(params, np.zeros((1, 3), dtype=np.int64), config={"vocab": 13})
        with pytest.raises(ValueError, match=r"`tokens` must have shape \(B, T\)"):
            mlprims.lm(params, np.zeros(3, dtype=np.int64), config=CONFIG)
        with pytest.raises(ValueError, match=r"`cache\['layers'\]\[0\]\['k'\]` must be"):
            other = mlprims.init_lm_cache(CONFIG, 2, backend="numpy")
            mlprims.lm(params, np.zeros((1, 3), dtype=np.int64), config=CONFIG, cache=other)
