"""A Hugging Face checkpoint loaded by mlprims, decoded on the backend of your choice, and
checked against ``transformers`` on every backend.

    python examples/hf_checkpoint.py [--quick] [OUTPUT_DIR] [--checkpoint DIR]
                                     [--backend numpy|torch|jax] [--prompt TEXT] [-n N]

``--checkpoint`` is a directory written by ``save_pretrained`` (``config.json`` and
``model.safetensors``, or its shards): a Llama, Qwen2, Mistral or GPT-2 checkpoint you have on
disk. Without one, the script saves a random tiny Llama (built from a config: nothing is
downloaded) into ``OUTPUT_DIR/tiny-llama`` and uses that.

:func:`mlprims.models.from_pretrained` reads the weights with the ``safetensors`` package's
NumPy API (no torch needed to load), ``model.generate`` extends the prompt greedily with the
KV cache (the end-of-sequence id of the checkpoint's generation config stops a row), and the
ids are printed, with the text when the directory has a tokenizer. Then, if ``transformers``
is installed, the prompt's logits of the same checkpoint on NumPy, PyTorch and ``jax.jit`` are
compared with ``transformers``' own forward, and ``hf_checkpoint_agreement.png`` draws the
largest difference per backend. ``--quick`` has no effect (the tiny model is fast already).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import mlprims
from mlprims.models import from_pretrained
from mlprims.testing import leaves

BACKENDS = ("numpy", "torch", "jax")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' save and load bars


def tiny_llama(folder: Path) -> Path:
    """A random Llama of 0.1M parameters saved as a checkpoint (the layout of real ones)."""
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def prompt_ids(folder: Path, text: str) -> tuple[np.ndarray, Any]:
    """The prompt as ids (1, P) and the tokenizer, when the checkpoint has one."""
    if (folder / "tokenizer.json").is_file() or (folder / "tokenizer_config.json").is_file():
        import transformers

        tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
        return np.asarray([tokenizer(text)["input_ids"]]), tokenizer
    return np.asarray([[1, 5, 17, 42, 7]]), None  # any ids: the tiny model has no tokenizer


def agreement(folder: Path, ids: np.ndarray) -> dict[str, float] | None:
    """The largest |logit difference| from transformers' forward, per backend (None without
    transformers)."""
    try:
        import torch
        import transformers
    except ImportError:
        return None
    reference = transformers.AutoModelForCausalLM.from_pretrained(folder).float().eval()
    with torch.no_grad():
        expected = reference(torch.as_tensor(ids)).logits.numpy()
    differences = {}
    for name in BACKENDS:
        model = from_pretrained(folder, backend=name, dtype="float32")
        tokens = mlprims.backends.resolve(name).asarray(ids)
        if name == "jax":
            import jax

            logits = jax.jit(lambda t, m=model: m(t))(tokens)
            name = "jax.jit"
        else:
            logits = model(tokens)
        differences[name] = float(np.max(np.abs(np.asarray(logits) - expected)))
    return differences


def draw(differences: dict[str, float], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(list(differences), [max(d, 1e-12) for d in differences.values()], color="tab:blue")
    ax.set_yscale("log")
    ax.set_ylim(top=1e-4)
    ax.axhline(1e-5, color="tab:red", linestyle="--", label="1e-5, the tests' tolerance")
    ax.set_ylabel("max |logit - transformers'|")
    ax.set_title("One checkpoint, three backends, float32")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "hf_checkpoint_agreement.png", dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("output", nargs="?", default="hf-checkpoint", help="where files go")
    parser.add_argument("--quick", action="store_true", help="no effect (already fast)")
    parser.add_argument("--checkpoint", type=Path, help="a save_pretrained directory")
    parser.add_argument("--backend", choices=BACKENDS, default="numpy")
    parser.add_argument("--prompt", default="The meaning of life is")
    parser.add_argument("-n", "--max-new-tokens", type=int, default=20)
    args = parser.parse_args()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)

    folder = args.checkpoint or tiny_llama(out / "tiny-llama")
    model = from_pretrained(folder, backend=args.backend)
    size = sum(int(np.prod(a.shape)) for a in leaves(model.params))
    print(f"{folder}: a {model.model_type} of {size:,} parameters on {args.backend}")
    ids, tokenizer = prompt_ids(folder, args.prompt)
    tokens = mlprims.backends.resolve(args.backend).asarray(ids)
    generated = np.asarray(model.generate(tokens, args.max_new_tokens))
    print(f"prompt ids    {ids[0].tolist()}")
    print(f"generated ids {generated[0, ids.shape[1] :].tolist()}")
    if tokenizer is not None:
        print("text:", tokenizer.decode(generated[0], skip_special_tokens=True))

    differences = agreement(folder, ids)
    if differences is None:
        print("transformers is not installed: no comparison")
        return
    for name, difference in differences.items():
        print(f"{name:8s} max |logit difference| from transformers: {difference:.1e}")
    draw(differences, out)
    print(f"saved {out / 'hf_checkpoint_agreement.png'}")


if __name__ == "__main__":
    main()
