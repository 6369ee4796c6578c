"""Benchmark: mlprims' Hugging Face models (``mlprims.models.from_transformers``) against
``transformers`` itself, the same weights, side by side.

    python benchmarks/bench_models.py                              # the shapes below
    python benchmarks/bench_models.py --quick --no-memory --no-write   # tiny: proves it runs
    python benchmarks/bench_models.py --list                       # the case names
    python benchmarks/bench_models.py --only "gpt2 greedy B=1 P=32 N=32" --repeat 3

"native" is always ``transformers`` in torch eager (float32, its default attention, ``.eval()``,
under ``torch.no_grad()``); "ours" is the model ``from_transformers(hf_model, backend=...)``
makes of it, on torch eager or, for decoding, the whole loop under ``jax.jit`` (its compilation
is the "first call", left out of the timings). ratio = ours / native. Every model is built from
a config with random weights (``torch.manual_seed(0)``; nothing is downloaded), once per process
(several cases share it).

Models (full size; ``--quick``: 2 layers, hidden 64, 4 heads, vocab 1000, at most 64 positions):

- GPT-2 small (124M): ``GPT2LMHeadModel``, n_embd 768, 12 layers, 12 heads, vocab 50257,
  n_positions 1024.
- Llama-shaped (60M): ``LlamaForCausalLM``, hidden 512, 8 layers, 8 heads, 4 KV heads,
  intermediate 1376 (2/3 * 4 * 512 rounded up to a multiple of 32; Meta's rounding to 256
  would give 1536), vocab 32000, max_position_embeddings 2048, untied embeddings.
- BERT-base (110M): ``BertModel``, hidden 768, 12 layers, 12 heads, intermediate 3072, vocab
  30522; ``last_hidden_state`` (the pooler runs on both sides).
- ResNet-50 (25M): ``ResNetForImageClassification``, bottleneck, depths 3-4-6-3, widths
  256-512-1024-2048, stem 64, 1000 classes; its logits (``--quick``: depths 1-1, widths
  32-64, stem 16, 10 classes).

Cases:

1. Greedy decoding, GPT-2 and Llama, batch B in {1, 8}, (prompt P, new N) in {(32, 32),
   (128, 128)} (``--quick``: P = N = 8): transformers' ``generate`` (``do_sample=False``,
   ``num_beams=1``, ``use_cache=True``, ``min_new_tokens = max_new_tokens = N``, through one
   ``GenerationConfig``) against ``ours.generate(ids, N)`` on torch eager (target <= 1.0x) and
   under ``jax.jit`` (target <= 0.5x). The same tokens: the models have no EOS at all
   (``eos_token_id=None``, ``pad_token_id=0`` in the config, so in its generation config too,
   and ``eos_token_id=None`` given to ours), so every call makes exactly B * N tokens; building
   a case runs both sides once and raises if the tokens differ anywhere (or if transformers
   stopped early). Peak memory at B = 8 (target <= 1.2x).
2. Prefill forward, GPT-2 and Llama, B = 8, T = 128: ``ours(ids)`` against
   ``hf(ids).logits``, torch eager, target <= 1.2x; peak memory (target <= 1.2x).
3. Encoders and vision, torch eager forward, target <= 1.3x: BERT (B = 8, T = 128) and
   ResNet-50 (8 x 3 x 224 x 224); peak memory (target <= 1.2x). Building a forward case checks
   that both sides agree (max |ours - native| <= 1e-3 of max |native|) and raises if not.

Peak memory (harness.py): each side runs in its own fresh process, which builds only that side
(ours: the transformers model is dropped once converted); the process of a jax.jit side also
holds torch and transformers, which made the weights.

Run time on 2 shared cores: ``--quick --no-memory`` 20 to 35 s. The full run is long: each
side of a case is called about 18 times (the check, the first call, a warm-up, 15 rounds), and
decoding with the full-size models takes seconds per call. Measured while writing this, on 2
busy cores (load 4.7): ``--only "gpt2 greedy B=1 P=32 N=32" --no-memory --repeat 3`` took
7.7 min (ours on torch eager 33 s a call, transformers 5 to 10 s, ours under jax.jit 7.7 s);
from that, the full run at 15 rounds is several hours (5 to 10, most of it the B = 8,
P = N = 128 cases and ours on torch eager), less as ours gets faster. Run it in parts
(``--only gpt2``, ``--only llama``, ``--only "B=8 T=128"``) with ``--repeat 5``
(and ``--update`` once the section is in RESULTS.md), on a quiet machine.

Timing and RESULTS.md: benchmarks/harness.py.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
from typing import Any

from harness import Pair, main

DECODE_TARGET = {"torch eager": 1.0, "jax.jit": 0.5}
FORWARD_TARGET = 1.2
ENCODER_TARGET = 1.3
MEMORY_TARGET = 1.2
PAD = 0  # the pad token of both sides; there is no EOS


def _sizes(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "batches": (1, 8),
            "lengths": ((8, 8),),  # (prompt, new)
            "forward": (8, 8),  # (batch, tokens)
            "images": (8, 32),  # (batch, height = width)
        }
    return {
        "batches": (1, 8),
        "lengths": ((32, 32), (128, 128)),
        "forward": (8, 128),
        "images": (8, 224),
    }


def _config(kind: str, quick: bool) -> Any:
    """The transformers config of a model: full size or tiny."""
    import transformers

    no_eos = {"bos_token_id": None, "eos_token_id": None, "pad_token_id": PAD}
    if kind == "gpt2":
        sizes = {"vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12}
        tiny = {"vocab_size": 1000, "n_embd": 64, "n_layer": 2, "n_head": 4}
        positions = {"n_positions": 64 if quick else 1024}
        return transformers.GPT2Config(**(tiny if quick else sizes), **positions, **no_eos)
    if kind == "llama":
        sizes = {
            "vocab_size": 32000,
            "hidden_size": 512,
            "intermediate_size": 1376,
            "num_hidden_layers": 8,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "max_position_embeddings": 2048,
        }
        tiny = {
            "vocab_size": 1000,
            "hidden_size": 64,
            "intermediate_size": 176,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 64,
        }
        return transformers.LlamaConfig(
            **(tiny if quick else sizes), tie_word_embeddings=False, **no_eos
        )
    if kind == "bert":
        sizes = {
            "vocab_size": 30522,
            "hidden_size": 768,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "intermediate_size": 3072,
        }
        tiny = {
            "vocab_size": 1000,
            "hidden_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "intermediate_size": 256,
            "max_position_embeddings": 64,
        }
        return transformers.BertConfig(**(tiny if quick else sizes))
    if kind == "resnet":
        if quick:
            sizes = {"depths": [1, 1], "hidden_sizes": [32, 64], "embedding_size": 16}
            return transformers.ResNetConfig(layer_type="bottleneck", num_labels=10, **sizes)
        return transformers.ResNetConfig(
            layer_type="bottleneck",
            depths=[3, 4, 6, 3],
            hidden_sizes=[256, 512, 1024, 2048],
            embedding_size=64,
            num_labels=1000,
        )
    msg = f"unknown model {kind!r}"
    raise ValueError(msg)


@functools.cache
def _hf(kind: str, quick: bool) -> Any:
    """The transformers model, random weights (seed 0), in eval mode: built once."""
    import torch
    import transformers

    classes = {
        "gpt2": transformers.GPT2LMHeadModel,
        "llama": transformers.LlamaForCausalLM,
        "bert": transformers.BertModel,
        "resnet": transformers.ResNetForImageClassification,
    }
    torch.manual_seed(0)
    return classes[kind](_config(kind, quick)).eval()


@functools.cache
def _ours(kind: str, quick: bool, backend: str) -> Any:
    """mlprims' model of the same weights on `backend`: built once."""
    from mlprims.models import from_transformers

    return from_transformers(_hf(kind, quick), backend=backend)


def _ours_alone(kind: str, quick: bool, backend: str) -> Any:
    """Ours, without keeping the transformers model (a memory process of ours' side)."""
    model = _ours(kind, quick, backend)
    _hf.cache_clear()
    gc.collect()
    return model


def _vocab(kind: str, quick: bool) -> int:
    return _config(kind, quick).vocab_size


def _ids(kind: str, quick: bool, batch: int, length: int) -> Any:
    """Token ids (NumPy int64), the same for every case of those sizes."""
    import numpy as np

    return np.random.default_rng(0).integers(1, _vocab(kind, quick), (batch, length))


def _generation_config(new: int) -> Any:
    import transformers

    return transformers.GenerationConfig(
        max_new_tokens=new,
        min_new_tokens=new,
        do_sample=False,
        num_beams=1,
        use_cache=True,
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=PAD,
    )


def _hf_generate(kind: str, quick: bool, prompt: Any, new: int):
    import torch

    model, config = _hf(kind, quick), _generation_config(new)

    def native() -> Any:
        with torch.no_grad():
            return model.generate(prompt, generation_config=config)

    return native


@functools.cache
def _hf_tokens(kind: str, quick: bool, batch: int, prompt: int, new: int) -> Any:
    """transformers' greedy tokens (NumPy), checked to be B x (P + N)."""
    import torch

    ids = torch.as_tensor(_ids(kind, quick, batch, prompt))
    tokens = _hf_generate(kind, quick, ids, new)().numpy()
    if tokens.shape != (batch, prompt + new):
        msg = f"{kind}: transformers made {tokens.shape}, not {(batch, prompt + new)}: stopped?"
        raise RuntimeError(msg)
    return tokens


def _same_tokens(name: str, ours: Any, expected: Any) -> None:
    """Raise unless ours (any backend) equals transformers' tokens."""
    import numpy as np

    got = np.asarray(ours)
    if got.shape == expected.shape and np.array_equal(got, expected):
        return
    if got.shape != expected.shape:
        msg = f"{name}: ours made {got.shape} tokens, transformers {expected.shape}"
        raise RuntimeError(msg)
    rows, columns = np.nonzero(got != expected)
    msg = (
        f"{name}: the tokens differ from transformers' at {rows.size} places, the first at "
        f"row {rows[0]}, column {columns[0]}: {got[rows[0], columns[0]]} (ours) vs "
        f"{expected[rows[0], columns[0]]}"
    )
    raise RuntimeError(msg)


def _close(name: str, ours: Any, native: Any, tolerance: float = 1e-3) -> None:
    """Raise unless max |ours - native| <= tolerance * max |native|."""
    import numpy as np

    ours, native = np.asarray(ours), np.asarray(native)
    if ours.shape != native.shape:
        msg = f"{name}: ours gave the shape {ours.shape}, transformers {native.shape}"
        raise RuntimeError(msg)
    error, scale = float(np.max(np.abs(ours - native))), float(np.max(np.abs(native)))
    if error > tolerance * scale:
        msg = f"{name}: max |ours - transformers| = {error:.3g}, of max |transformers| {scale:.3g}"
        raise RuntimeError(msg)


def _decode(kind, quick, batch, prompt, new, mode, name, side):
    """A decoding case: (ours, native); `side` (a memory process) builds that side alone."""
    import torch

    ids = _ids(kind, quick, batch, prompt)
    native = None
    if side != "ours":
        native = _hf_generate(kind, quick, torch.as_tensor(ids), new)
        if side == "native":
            return None, native
    backend = "torch" if mode == "torch eager" else "jax"
    model = _ours_alone(kind, quick, backend) if side == "ours" else _ours(kind, quick, backend)
    if mode == "torch eager":
        prompt_ids = torch.as_tensor(ids)

        def ours() -> Any:
            with torch.no_grad():
                return model.generate(prompt_ids, new, eos_token_id=None, pad_token_id=PAD)

    else:
        import jax
        import jax.numpy as jnp

        prompt_ids = jnp.asarray(ids)

        def run(params: Any, p: Any) -> Any:  # the weights an argument, not 500 MB of constants
            with_params = dataclasses.replace(model, params=params)
            return with_params.generate(p, new, eos_token_id=None, pad_token_id=PAD)

        jitted = jax.jit(run)

        def ours() -> Any:
            return jitted(model.params, prompt_ids)

    if side is None:  # the timing process: the same tokens, and the compilation done
        _same_tokens(name, ours(), _hf_tokens(kind, quick, batch, prompt, new))
    return ours, native


def _forward(kind, quick, name, side):
    """A forward case on torch eager: (ours, native), checked to agree."""
    import numpy as np
    import torch

    batch, length = _sizes(quick)["forward"]
    if kind == "resnet":
        batch, size = _sizes(quick)["images"]
        rng = np.random.default_rng(0)
        inputs = torch.as_tensor(rng.standard_normal((batch, 3, size, size), np.float32))
    else:
        inputs = torch.as_tensor(_ids(kind, quick, batch, length))

    def output(out: Any) -> Any:  # the array compared: logits or last_hidden_state
        return out[0] if isinstance(out, tuple) else out

    hf_side = ours_side = None
    if side != "ours":
        hf = _hf(kind, quick)
        field = "last_hidden_state" if kind == "bert" else "logits"

        def hf_side() -> Any:
            with torch.no_grad():
                return getattr(hf(inputs), field)

    if side != "native":
        model = _ours_alone(kind, quick, "torch") if side == "ours" else _ours(kind, quick, "torch")

        def ours_side() -> Any:
            with torch.no_grad():
                return output(model(inputs))

    if side is None:
        _close(name, ours_side(), hf_side())
    return ours_side, hf_side


def add_arguments(parser) -> None:
    parser.add_argument(
        "--lengths",
        nargs="+",
        metavar="P,N",
        help="the decoding cases' (prompt, new tokens) pairs (default 32,32 128,128)",
    )


def cases(args) -> list[Pair]:
    quick = args.quick
    side = args.memory_child[1] if args.memory_child else None  # a memory process: one side
    s = _sizes(quick)
    if args.lengths:
        s["lengths"] = tuple(tuple(int(n) for n in pair.split(",")) for pair in args.lengths)
    pairs = []
    for kind in ("gpt2", "llama"):
        for batch in s["batches"]:
            for prompt, new in s["lengths"]:
                for mode, target in DECODE_TARGET.items():
                    name = f"{kind} greedy B={batch} P={prompt} N={new}: {mode} vs transformers"
                    make = functools.partial(
                        _decode, kind, quick, batch, prompt, new, mode, name, side
                    )
                    memory = batch == max(s["batches"])
                    pairs.append(
                        Pair(
                            name,
                            make,
                            target=target,
                            memory=memory,
                            memory_target=MEMORY_TARGET if memory else None,
                        )
                    )
    batch, length = s["forward"]
    forward = [
        ("gpt2", f"gpt2 prefill logits B={batch} T={length}", FORWARD_TARGET),
        ("llama", f"llama prefill logits B={batch} T={length}", FORWARD_TARGET),
        ("bert", f"bert last_hidden_state B={batch} T={length}", ENCODER_TARGET),
    ]
    images, size = s["images"]
    forward.append(("resnet", f"resnet50 logits B={images} 3x{size}x{size}", ENCODER_TARGET))
    for kind, label, target in forward:
        name = f"{label}: torch eager vs transformers"
        make = functools.partial(_forward, kind, quick, name, side)
        pairs.append(Pair(name, make, target=target, memory=True, memory_target=MEMORY_TARGET))
    return pairs


def notes(args) -> list[str]:
    lines = [
        (
            "Decoding: each call makes B * N tokens (no EOS), the same tokens on both sides "
            "(checked once per case): tokens/s = B * N / time."
        ),
        "Llama: intermediate size 1376 (2/3 * 4 * hidden, rounded up to a multiple of 32).",
    ]
    return lines


if __name__ == "__main__":
    main(__file__, __doc__, cases, add_arguments=add_arguments, notes=notes)
