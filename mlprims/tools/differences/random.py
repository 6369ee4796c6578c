"""Random number models: a stateful generator versus explicit, splittable keys."""

from __future__ import annotations

from ._item import Item
from ._show import jax, np, show, torch

__all__ = ["ITEMS"]


def _numpy_twice() -> str:
    rng = np().random.default_rng(0)
    return f"default_rng(0): {show(rng.random())}, then {show(rng.random())}"


def _torch_twice() -> str:
    t = torch()
    g = t.Generator().manual_seed(0)
    return f"manual_seed(0): {show(t.rand((), generator=g))}, then {show(t.rand((), generator=g))}"


def _jax_twice() -> str:
    random = jax().random
    key = random.key(0)
    first, again = random.uniform(key), random.uniform(key)
    after_split = random.uniform(random.split(key)[0])
    return f"key(0): {show(first)}, again {show(again)}; split: {show(after_split)}"


def _mlprims_twice() -> str:
    import mlprims

    key = mlprims.random.key(0, backend="numpy")
    first, again = mlprims.random.uniform(key), mlprims.random.uniform(key)
    after_split = mlprims.random.uniform(mlprims.random.split(key)[0])
    return f"key(0): {show(first)}, again {show(again)}; split: {show(after_split)}"


def _torch_global_seed() -> str:
    t = torch()
    state = t.get_rng_state()
    try:
        t.manual_seed(0)
        first = t.rand(())
        t.manual_seed(0)
        t.nn.init.normal_(t.empty(3))  # an unrelated layer initialised in between
        second = t.rand(())
    finally:
        t.set_rng_state(state)
    return f"rand after seed: {show(first)}; after an init in between: {show(second)}"


def _mlprims_key_passing() -> str:
    import mlprims

    key = mlprims.random.key(0, backend="numpy")
    init_key, data_key = mlprims.random.split(key)
    mlprims.random.normal(init_key, (3,))  # drawing with one key leaves the other unchanged
    return f"uniform(data_key): {show(mlprims.random.uniform(data_key))} whatever else is drawn"


ITEMS = [
    Item(
        "rng-model",
        "random",
        "seed 0, draw a uniform twice",
        "a JAX key reused gives the same 'random' numbers; the same seed gives different "
        "numbers in each framework",
        {
            "numpy": (_numpy_twice, "default_rng(0): 0.636962, then 0.269787"),
            "torch": (_torch_twice, "manual_seed(0): 0.496257 f32, then 0.768222 f32"),
            "jax": (_jax_twice, "key(0): 0.947667 f32, again 0.947667 f32; split: 0.842314 f32"),
            "array_api_strict": "no random numbers in the standard",
        },
        (_mlprims_twice, "key(0): 0.947667 f32, again 0.947667 f32; split: 0.842314 f32"),
    ),
    Item(
        "global-rng-state",
        "random",
        "seed 0, draw; seed 0, initialise a layer, draw",
        "torch's global generator is shared: any draw in between shifts every later number",
        {
            "numpy": "np.random.seed has the same global state; Generator objects do not",
            "torch": (
                _torch_global_seed,
                "rand after seed: 0.496257 f32; after an init in between: 0.455628 f32",
            ),
            "jax": "no global state: every draw takes a key",
        },
        (_mlprims_key_passing, "uniform(data_key): 0.00729382 f32 whatever else is drawn"),
    ),
]
