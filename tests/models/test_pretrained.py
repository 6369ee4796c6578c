"""Hugging Face checkpoints (mlprims/models/pretrained.py): random tiny models built from
configs, saved with ``save_pretrained`` into a temporary folder (nothing is downloaded), loaded
on every backend and compared with ``transformers``' own forward."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import numpy as np
import pytest

import mlprims
from mlprims.models import from_pretrained, from_transformers
from mlprims.testing import assert_close

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

SIZES = {
    "vocab_size": 50,
    "hidden_size": 16,
    "intermediate_size": 40,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 64,
    "rms_norm_eps": 1e-6,
}
TOKENS = np.random.default_rng(0).integers(0, 50, (2, 7))


def _model(kind: str, **options: Any) -> Any:
    torch.manual_seed(0)
    if kind == "gpt2":
        sizes = {"vocab_size": 50, "n_embd": 16, "n_layer": 2, "n_head": 4, "n_positions": 64}
        config = transformers.GPT2Config(**sizes, bos_token_id=1, eos_token_id=2, **options)
        return transformers.GPT2LMHeadModel(config).eval()
    configs = {
        "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
        "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM),
        "mistral": (transformers.MistralConfig, transformers.MistralForCausalLM),
    }
    config_class, model_class = configs[kind]
    settings = {**SIZES, "rope_theta": 500.0, "tie_word_embeddings": False, **options}
    if kind == "mistral":
        settings.setdefault("sliding_window", 3)  # shorter than the tests' sequences
    return model_class(config_class(**settings)).eval()


def _logits(model: Any) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(TOKENS)).logits.numpy()


def _save(kind: str, factory: pytest.TempPathFactory) -> tuple[pathlib.Path, Any, np.ndarray]:
    model = _model(kind)
    folder = factory.mktemp(kind)
    model.save_pretrained(folder)
    return folder, model, _logits(model)


@pytest.fixture(scope="module", params=["llama", "qwen2", "mistral", "gpt2"])
def saved(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(folder, the transformers model, its logits) for each architecture."""
    return _save(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The same for Llama alone: what the loader does whatever the architecture."""
    return _save("llama", tmp_path_factory)


def test_logits_equal_transformers_on_every_backend(xb, saved) -> None:
    folder, _, expected = saved
    model = from_pretrained(folder, backend=xb.backend)
    logits = xb.run(lambda ids: model(ids), xb.asarray(TOKENS))
    assert_close(xb.to_numpy(logits), expected, atol=1e-5, rtol=1e-5)


def _float64_reference(hf_model: Any) -> np.ndarray:
    """transformers' logits in float64, with RMSNorm's mean square and RoPE's angles (which it
    computes in float32 in any model) computed in float64 too."""
    import copy

    model = copy.deepcopy(hf_model).double()
    for module in model.modules():
        kind = type(module).__name__
        if kind.endswith("RMSNorm"):
            module.forward = _float64_rms_norm.__get__(module)
        elif kind.endswith("RotaryEmbedding"):
            dim = module.inv_freq.shape[0] * 2
            base = model.config.rope_parameters["rope_theta"]
            exponents = torch.arange(0, dim, 2, dtype=torch.float64) / dim
            module.inv_freq = 1.0 / (base**exponents)
            module.forward = _float64_rotary.__get__(module)
    with torch.no_grad():
        return model(torch.as_tensor(TOKENS)).logits.numpy()


def _float64_rms_norm(self: Any, x: Any) -> Any:
    return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))


def _float64_rotary(self: Any, x: Any, position_ids: Any) -> Any:
    angles = position_ids[..., None].double() * self.inv_freq
    both = torch.cat((angles, angles), dim=-1)
    return both.cos().to(x.dtype), both.sin().to(x.dtype)


@pytest.fixture(scope="module")
def float64_logits(saved) -> np.ndarray:
    return _float64_reference(saved[1])


def test_float64_logits_equal_transformers_to_1e_10(xb, saved, float64_logits) -> None:
    """The same weights in float64: GPT-2 against transformers as it is, the Llama family
    against it with its two float32 parts (RMSNorm, RoPE) in float64."""
    model = from_pretrained(saved[0], backend=xb.backend, dtype="float64")
    logits = xb.run(lambda ids: model(ids), xb.asarray(TOKENS))
    assert xb.to_numpy(logits).dtype == np.float64
    assert_close(xb.to_numpy(logits), float64_logits, atol=1e-10, rtol=1e-10)


def test_a_left_padded_batch_with_its_attention_mask(xb, saved) -> None:
    """Padding keys are left out; positions stay 0 .. T-1 (transformers' forward)."""
    folder, hf_model, _ = saved
    mask = np.ones(TOKENS.shape, np.int64)
    mask[0, :3] = 0
    with torch.no_grad():
        ids, hf_mask = torch.as_tensor(TOKENS), torch.as_tensor(mask)
        expected = hf_model(ids, attention_mask=hf_mask).logits.numpy()
    model = from_pretrained(folder, backend=xb.backend)
    logits = xb.run(lambda i, m: model(i, m), xb.asarray(TOKENS), xb.asarray(mask))
    kept = mask == 1
    assert_close(xb.to_numpy(logits)[kept], expected[kept], atol=1e-5, rtol=1e-5)
    boolean = xb.to_numpy(xb.run(lambda i, m: model(i, m), xb.asarray(TOKENS), xb.asarray(kept)))
    assert_close(boolean[kept], expected[kept], atol=1e-5, rtol=1e-5)


def test_from_transformers_equals_from_pretrained(saved) -> None:
    folder, hf_model, expected = saved
    loaded = from_transformers(hf_model)
    assert loaded.config == from_pretrained(folder).config  # the generation config may differ
    assert_close(loaded(TOKENS), expected, atol=1e-5, rtol=1e-5)
    assert loaded.model_type == hf_model.config.model_type


def test_the_config(llama) -> None:
    config = from_pretrained(llama[0]).config
    assert config.sliding_window is None
    assert (config.vocab, config.d_model, config.n_layers) == (50, 16, 2)
    assert (config.n_heads, config.n_kv_heads, config.d_ff) == (4, 2, 40)
    assert (config.rope_base, config.norm_eps, config.tie_embeddings) == (500.0, 1e-6, False)


def test_a_tied_head_and_llama3_rope_scaling(tmp_path: pathlib.Path) -> None:
    scaling = {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8,
    }
    hf_model = _model("llama", tie_word_embeddings=True, rope_scaling=scaling)
    hf_model.save_pretrained(tmp_path)
    model = from_pretrained(tmp_path)
    assert model.config.tie_embeddings and model.config.scaling["rope_type"] == "llama3"
    assert "head" not in model.params
    assert_close(model(TOKENS), _logits(hf_model), atol=1e-5, rtol=1e-5)


def test_heads_wider_than_hidden_size_over_heads() -> None:
    """``head_dim`` given (Qwen3, Gemma): 4 heads of 8 on a width of 16, q (16, 32), o (32, 16)."""
    hf_model = _model("llama", head_dim=8)
    model = from_transformers(hf_model, backend="torch")
    assert model.config.head_dim == 8 and tuple(model.params["layers"][0]["wo"].shape) == (32, 16)
    assert_close(model(torch.as_tensor(TOKENS)), _logits(hf_model), atol=1e-5, rtol=1e-5)
    out = model.generate(torch.as_tensor(TOKENS[:, :4]), 3)
    expected = hf_model.generate(torch.as_tensor(TOKENS[:, :4]), max_new_tokens=3, do_sample=False)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_gpt2_config() -> None:
    model = from_transformers(_model("gpt2"))
    config = model.config
    assert (config.vocab, config.d_model, config.n_layers, config.n_heads) == (50, 16, 2, 4)
    assert (config.max_len, config.d_ff, config.norm_eps) == (64, 64, 1e-5)
    assert model.params["wte"].shape == (50, 16)
    assert model.params["layers"][0]["c_attn_w"].shape == (16, 48)  # Conv1D: (in, out) as is


def test_gpt2_through_its_cache_in_chunks() -> None:
    """Chunks fed through a cache of capacity 7 give the logits of one call; the cached and
    the recomputing step functions give the same tokens."""
    from mlprims.models import gpt2, gpt2_step_fn, init_gpt2_cache

    model = from_transformers(_model("gpt2"))
    params, config = model.params, model.config
    full, none = gpt2(params, TOKENS, config=config)
    cache = init_gpt2_cache(config, 2, capacity=7, backend="numpy")
    assert none is None and cache["layers"][0]["k"].shape == (2, 4, 7, 4)
    chunks = []
    for t0, t1 in ((0, 3), (3, 4), (4, 7)):
        logits, cache = gpt2(params, TOKENS[:, t0:t1], config=config, cache=cache)
        chunks.append(logits)
    assert cache["length"].tolist() == [7, 7]
    assert_close(np.concatenate(chunks, axis=1), full, atol=1e-6, rtol=1e-6)
    last, _ = gpt2(params, TOKENS, config=config, logits_to_keep=1)
    assert_close(last, full[:, -1:], atol=1e-6, rtol=1e-6)
    prompt = TOKENS[:, :3]
    cached = mlprims.generate(gpt2_step_fn(params, config), prompt, 5)
    recomputed = mlprims.generate(gpt2_step_fn(params, config, cached=False), prompt, 5)
    np.testing.assert_array_equal(cached, recomputed)
    with pytest.raises(ValueError, match=r"`capacity` \(65\) must not exceed max_len \(64\)"):
        init_gpt2_cache(config, 1, capacity=65)


def test_both_config_layouts(tmp_path: pathlib.Path, llama) -> None:
    """transformers 5 writes rope_parameters; checkpoints on the Hub have rope_theta."""
    folder, _, expected = llama
    hub = tmp_path / "hub"
    hub.mkdir()
    config = json.loads((folder / "config.json").read_text())
    theta = config.pop("rope_parameters")["rope_theta"]
    (hub / "config.json").write_text(json.dumps({**config, "rope_theta": theta}))
    (hub / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    assert_close(from_pretrained(hub)(TOKENS), expected, atol=1e-5, rtol=1e-5)


def test_sharded_checkpoints_and_names_without_the_prefix(tmp_path: pathlib.Path) -> None:
    hf_model = _model("llama")
    hf_model.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").is_file()
    assert_close(from_pretrained(tmp_path / "sharded")(TOKENS), _logits(hf_model), atol=1e-5)
    bare = tmp_path / "bare"  # a LlamaModel's names, and the head at the top level
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps(hf_model.config.to_dict()))
    tensors = {k.removeprefix("model."): v.numpy() for k, v in hf_model.state_dict().items()}
    safetensors_numpy.save_file(tensors, bare / "model.safetensors")
    assert_close(from_pretrained(bare)(TOKENS), _logits(hf_model), atol=1e-5)


def test_a_bfloat16_checkpoint_is_widened_exactly(tmp_path: pathlib.Path) -> None:
    """Most Llama-family checkpoints are bfloat16, which NumPy lacks: float32 holds each value."""
    hf_model = _model("llama").to(torch.bfloat16)
    hf_model.save_pretrained(tmp_path)
    model = from_pretrained(tmp_path)
    assert model.params["embed"].dtype == np.float32
    exact = hf_model.model.embed_tokens.weight.detach().float().numpy()
    np.testing.assert_array_equal(model.params["embed"], exact)
    np.testing.assert_array_equal(
        model.params["norm"], hf_model.model.norm.weight.detach().float().numpy()
    )


def test_dtype_and_backend_choices(llama) -> None:
    folder, _, expected = llama
    model = from_pretrained(folder, dtype="float64")
    assert model.params["embed"].dtype == np.float64
    assert_close(model(TOKENS), expected, atol=1e-5, rtol=1e-5)
    with mlprims.use("torch"):
        assert isinstance(from_pretrained(folder).params["norm"], torch.Tensor)


def test_a_config_without_a_size_names_it(tmp_path: pathlib.Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2", "vocab_size": 5}))
    missing = r"config\.json of a qwen2 model has no 'num_attention_heads'"
    with pytest.raises(ValueError, match=missing):
        from_pretrained(tmp_path)


def _generate_both(xb: Any, saved: Any, beams: int, *, padded: bool = False) -> None:
    """transformers' tokens, and ours padded with EOS after them (transformers stops when
    every row has ended, so its output may be shorter). `padded`: the first row is
    left-padded by 3 (with token 2, the pad), with its attention mask."""
    folder, hf_model, _ = saved
    prompt = np.random.default_rng(1).integers(3, 50, (2, 5))
    mask = np.ones(prompt.shape, np.int64)
    options: dict[str, Any] = {}
    if padded:
        prompt[0, :3], mask[0, :3] = 2, 0
        options["attention_mask"] = torch.as_tensor(mask)
    with torch.no_grad():
        options |= {"do_sample": False, "num_beams": beams, "pad_token_id": 2}
        expected = hf_model.generate(torch.as_tensor(prompt), max_new_tokens=10, **options)
    model = from_pretrained(folder, backend=xb.backend)

    def generate(ids: Any, keys: Any) -> Any:  # one jax.jit of the whole loop on jax_jit
        return model.generate(ids, 10, num_beams=beams, attention_mask=keys if padded else None)

    tokens = xb.to_numpy(xb.run(generate, xb.asarray(prompt), xb.asarray(mask)))
    assert tokens.shape == (2, 15)
    np.testing.assert_array_equal(tokens[:, : expected.shape[1]], expected.numpy())
    assert (tokens[:, expected.shape[1] :] == 2).all()  # the generation config's EOS


@pytest.mark.backends(
    exclude=("jax",), reason="eager JAX compiles each step's operations anew (16 s); jax_jit runs"
)
def test_greedy_generate_equals_transformers(xb, saved) -> None:
    _generate_both(xb, saved, beams=1)


@pytest.mark.backends(
    exclude=("jax",), reason="eager JAX compiles each step's operations anew (16 s); jax_jit runs"
)
def test_generate_a_left_padded_batch(xb, saved) -> None:
    _generate_both(xb, saved, beams=1, padded=True)


@pytest.mark.backends(
    "numpy", "torch", "array_api_strict", reason="beam search under jax.jit: tests/decoding"
)
def test_beam_generate_equals_transformers(xb, saved) -> None:
    _generate_both(xb, saved, beams=3)
    _generate_both(xb, saved, beams=3, padded=True)


def test_a_mask_of_another_shape(llama) -> None:
    model = from_pretrained(llama[0])
    with pytest.raises(ValueError, match=r"must have shape \(B, T\) = \(2, 7\), got \(2, 6\)"):
        model(TOKENS, np.ones((2, 6)))
    cache = mlprims.init_lm_cache(model.config, 2)
    too_long = np.ones((2, 65))  # more than max_len = 64 cache positions
    with pytest.raises(ValueError, match=r"\(B, S\), S <= the cache capacity 64, got \(2, 65\)"):
        mlprims.lm(model.params, TOKENS, config=model.config, cache=cache, attention_mask=too_long)


def test_the_window_matters() -> None:
    """Mistral's window of 3 changes the logits from the fourth token on."""
    hf_model = _model("mistral")
    model = from_transformers(hf_model)
    expected = _logits(hf_model)
    wide = dataclasses.replace(model, config=dataclasses.replace(model.config, sliding_window=None))
    full = wide(TOKENS)
    assert_close(model(TOKENS), expected, atol=1e-5, rtol=1e-5)
    assert_close(full[:, :3], expected[:, :3], atol=1e-5, rtol=1e-5)
    assert np.abs(full[:, 3:] - expected[:, 3:]).max() > 1e-3


def test_qwen2_sliding_layers_are_refused(tmp_path: pathlib.Path) -> None:
    hf_model = _model("qwen2", use_sliding_window=True, sliding_window=3, max_window_layers=0)
    hf_model.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="sliding-window layers in a qwen2 model"):
        from_pretrained(tmp_path)


class TestBadCheckpoints:
    def _copy(self, llama: Any, tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict[str, Any]]:
        folder = llama[0]
        tensors = safetensors_numpy.load_file(folder / "model.safetensors")
        (tmp_path / "config.json").write_text((folder / "config.json").read_text())
        return tmp_path, tensors

    def test_a_missing_folder_or_file(self, tmp_path: pathlib.Path, llama) -> None:
        with pytest.raises(ValueError, match=r"config\.json: no such file"):
            from_pretrained(tmp_path / "nowhere")
        folder, _ = self._copy(llama, tmp_path)
        with pytest.raises(ValueError, match=r"model\.safetensors: no such file"):
            from_pretrained(folder)

    def test_an_unknown_model_type(self, tmp_path: pathlib.Path, llama) -> None:
        folder, tensors = self._copy(llama, tmp_path)
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps({**config, "model_type": "mamba"}))
        safetensors_numpy.save_file(tensors, folder / "model.safetensors")
        with pytest.raises(ValueError, match="model_type 'mamba' is not supported; supported: "):
            from_pretrained(folder)

    @pytest.mark.parametrize(
        ("edit", "message"),
        [
            ("missing", "the checkpoint has no tensor 'layers.1.mlp.up_proj.weight'"),
            ("unexpected", "tensors the model does not use: layers.0.extra.weight"),
            ("misshaped", r"tensor 'norm.weight' has shape \(15,\), expected \(16,\)"),
        ],
    )
    def test_a_tensor_missing_left_over_or_misshaped(
        self, tmp_path: pathlib.Path, llama, edit: str, message: str
    ) -> None:
        folder, tensors = self._copy(llama, tmp_path)
        if edit == "missing":
            del tensors["model.layers.1.mlp.up_proj.weight"]
        elif edit == "unexpected":
            tensors["model.layers.0.extra.weight"] = np.zeros(3, np.float32)
        else:
            tensors["model.norm.weight"] = np.ones(15, np.float32)
        safetensors_numpy.save_file(tensors, folder / "model.safetensors")
        with pytest.raises(ValueError, match=message):
            from_pretrained(folder)


# ------------------------------------------------------------------------------------- BERT

BERT_SIZES = {
    "vocab_size": 50,
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 32,
    "max_position_embeddings": 64,
}


@pytest.fixture(scope="module")
def bert_saved(tmp_path_factory: pytest.TempPathFactory) -> Any:
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**BERT_SIZES)).eval()
    folder = tmp_path_factory.mktemp("bert")
    model.save_pretrained(folder)
    return folder, model


def test_bert_equals_transformers_on_every_backend(xb, bert_saved) -> None:
    """Hidden states and pooled output, with padding and two token types."""
    folder, hf_model = bert_saved
    mask = np.ones(TOKENS.shape, np.int64)
    mask[1, 5:] = 0
    types = np.zeros(TOKENS.shape, np.int64)
    types[:, 4:] = 1
    with torch.no_grad():
        inputs = [torch.as_tensor(a) for a in (TOKENS, mask, types)]
        expected = hf_model(*inputs)
    model = from_pretrained(folder, backend=xb.backend)
    assert isinstance(model, mlprims.models.Encoder)
    hidden, pooled = xb.run(
        lambda i, m, t: model(i, m, t), *(xb.asarray(a) for a in (TOKENS, mask, types))
    )
    kept = mask == 1  # a padding position's hidden state is meaningless
    want = expected.last_hidden_state.numpy()
    assert_close(xb.to_numpy(hidden)[kept], want[kept], atol=1e-5, rtol=1e-5)
    assert_close(xb.to_numpy(pooled), expected.pooler_output.numpy(), atol=1e-5, rtol=1e-5)


def test_bert_in_float64_equals_transformers_to_1e_10(bert_saved) -> None:
    folder, hf_model = bert_saved
    import copy

    with torch.no_grad():
        expected = copy.deepcopy(hf_model).double()(torch.as_tensor(TOKENS))
    hidden, pooled = from_pretrained(folder, dtype="float64")(TOKENS)
    assert_close(hidden, expected.last_hidden_state.numpy(), atol=1e-10, rtol=1e-10)
    assert_close(pooled, expected.pooler_output.numpy(), atol=1e-10, rtol=1e-10)


def test_bert_heads_are_left_out_and_a_missing_pooler_gives_none(tmp_path: pathlib.Path) -> None:
    torch.manual_seed(0)
    masked_lm = transformers.BertForMaskedLM(transformers.BertConfig(**BERT_SIZES)).eval()
    masked_lm.save_pretrained(tmp_path)
    hidden, pooled = from_pretrained(tmp_path)(TOKENS)
    with torch.no_grad():
        expected = masked_lm.bert(torch.as_tensor(TOKENS)).last_hidden_state.numpy()
    assert pooled is None
    assert_close(hidden, expected, atol=1e-5, rtol=1e-5)


def test_bert_with_another_activation_is_refused() -> None:
    config = transformers.BertConfig(**BERT_SIZES, hidden_act="relu")
    with pytest.raises(ValueError, match="hidden_act 'relu' is not supported yet"):
        from_transformers(transformers.BertModel(config))
