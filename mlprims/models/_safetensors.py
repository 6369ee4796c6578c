"""A checkpoint's tensors as NumPy arrays, read with the ``safetensors`` package (no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["read_tensors"]


def read_tensors(folder: Path) -> dict[str, np.ndarray]:
    """Every tensor of a checkpoint directory: ``model.safetensors``, or the shards its
    ``model.safetensors.index.json`` lists; a missing file is a ValueError naming it."""
    try:
        import safetensors  # noqa: F401 (the reader of _load_shard)
    except ImportError as exc:
        msg = "reading a checkpoint needs safetensors: pip install 'mlprims[hf]'"
        raise ImportError(msg) from exc

    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    tensors: dict[str, np.ndarray] = {}
    for shard in shards:
        file = folder / shard
        if not file.is_file():
            msg = f"{file}: no such file (the checkpoint's weights)"
            raise ValueError(msg)
        tensors.update(_load_shard(file))
    return tensors


def _load_shard(file: Path) -> dict[str, np.ndarray]:
    """The tensors of one safetensors file, as NumPy arrays; bfloat16 ones (most Llama-family
    checkpoints; NumPy has no bfloat16) widened exactly to float32 from their raw bits."""
    from safetensors import safe_open

    header_size = int.from_bytes(_head(file, 8), "little")  # the format: u64, JSON, the data
    header = json.loads(_head(file, 8 + header_size)[8:])
    tensors = {}
    with safe_open(file, framework="numpy") as f:
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            if entry["dtype"] != "BF16":
                tensors[name] = f.get_tensor(name)
                continue
            start, stop = entry["data_offsets"]
            raw = np.fromfile(file, np.uint16, (stop - start) // 2, offset=8 + header_size + start)
            wide = raw.astype(np.uint32) << 16  # bfloat16 is the top half of a float32
            tensors[name] = wide.view(np.float32).reshape(entry["shape"])
    return tensors


def _head(file: Path, size: int) -> bytes:
    """The first `size` bytes of `file`."""
    with file.open("rb") as f:
        return f.read(size)
