"""mlprims.lm data-parallel on JAX: the batch sharded over 4 devices gives one device's results.

JAX fixes its devices when it starts, so the sharded run happens in a fresh interpreter whose
host is split into 4 CPU devices (``--xla_force_host_platform_device_count=4``); it prints what
it measured as JSON, and the assertions are here. The script uses nothing but ``jax.jit``, a
1-D mesh and ``NamedSharding``: mlprims itself is unchanged (see examples/sharded_lm.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

DEVICES = 4

SCRIPT = """
import json

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

import mlprims

config = mlprims.LMConfig(vocab=11, d_model=16, n_layers=1, n_heads=2, max_len=16)
params = jax.tree.map(np.asarray, mlprims.init_lm(mlprims.random.key(0), config))
rng = np.random.default_rng(0)
windows = rng.integers(0, config.vocab, size=(8, 9), dtype=np.int32)  # (B, T + 1)
prompts = rng.integers(0, config.vocab, size=(8, 4), dtype=np.int32)  # (B, P)


def loss_fn(params, tokens):
    logits, _ = mlprims.lm(params, tokens[:, :-1], config=config)
    return mlprims.cross_entropy(logits, tokens[:, 1:]), logits


def train_step(params, tokens):  # the gradient and an SGD step
    (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, tokens)
    return loss, grads, jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), logits


def decode(params, prompts):
    return mlprims.generate(mlprims.lm_step_fn(params, config), prompts, 6)


def run(devices):
    mesh = jax.make_mesh((len(devices),), ("data",), devices=devices,
                         axis_types=(jax.sharding.AxisType.Auto,))
    rows, copy = NamedSharding(mesh, P("data")), NamedSharding(mesh, P())
    p = jax.device_put(params, copy)  # a whole copy of the weights on each device
    w, q = jax.device_put(windows, rows), jax.device_put(prompts, rows)  # rows split
    step = jax.jit(train_step).lower(p, w).compile()
    loss, grads, new, logits = jax.block_until_ready(step(p, w))  # one program at a time
    tokens = jax.jit(decode)(p, q)
    return {
        "loss": float(loss),
        "grads": [np.asarray(g).ravel().tolist() for g in jax.tree.leaves(grads)],
        "new": [np.asarray(g).ravel().tolist() for g in jax.tree.leaves(new)],
        "tokens": np.asarray(tokens).tolist(),
        "all_reduce": "all-reduce" in step.as_text(),
        "rows": {name: x.sharding.is_equivalent_to(rows, x.ndim)
                 for name, x in [("logits", logits), ("tokens", tokens)]},
        "replicated": all(x.sharding.is_fully_replicated for x in jax.tree.leaves((grads, new))),
        "pieces": sorted((s.device.id, s.data.shape[0]) for s in tokens.addressable_shards),
    }


print(json.dumps({"devices": jax.device_count(), "one": run(jax.devices()[:1]),
                  "sharded": run(jax.devices())}))
"""


@pytest.fixture(scope="module")
def runs() -> dict:
    env = {
        **os.environ,
        # 4 CPU devices; LLVM -O0 because compiling the tiny programs is all the cost
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={DEVICES} "
        "--xla_backend_optimization_level=0",
        "JAX_PLATFORMS": "cpu",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_host_is_split_into_devices(runs: dict) -> None:
    assert runs["devices"] == DEVICES


def test_greedy_decoding_gives_the_same_tokens(runs: dict) -> None:
    assert runs["sharded"]["tokens"] == runs["one"]["tokens"]
    assert len(runs["one"]["tokens"][0]) == 4 + 6


def test_training_step_gives_the_same_loss_gradients_and_update(runs: dict) -> None:
    one, sharded = runs["one"], runs["sharded"]
    assert sharded["loss"] == pytest.approx(one["loss"], abs=2e-6)
    for name in ("grads", "new"):
        for a, b in zip(one[name], sharded[name], strict=True):
            assert max(abs(x - y) for x, y in zip(a, b, strict=True)) < 1e-5, name


def test_the_batch_really_is_split_and_the_gradients_summed(runs: dict) -> None:
    sharded, one = runs["sharded"], runs["one"]
    assert sharded["rows"] == {"logits": True, "tokens": True}  # P("data"): rows split
    assert sharded["pieces"] == [[d, 8 // DEVICES] for d in range(DEVICES)]  # (device, rows)
    assert sharded["replicated"]  # every device ends with the whole gradient and update
    assert sharded["all_reduce"]  # ... which XLA got by summing the devices' partial ones
    assert not one["all_reduce"]
