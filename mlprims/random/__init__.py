"""Portable random numbers: JAX's Threefry-2x32 generator, written once in the array API.

The same key gives the same numbers on NumPy, PyTorch, JAX (eager and under ``jax.jit``) and
array_api_strict, and they are the numbers ``jax.random`` draws. Keys are explicit values, as
in JAX: never use one key twice; ``split`` it, or ``fold_in`` a step number.

>>> from mlprims import random
>>> key = random.key(0)                  # NumPy by default; random.key(0, backend="torch")
>>> key
array([0, 0], dtype=uint32)
>>> init_key, dropout_key = random.split(key)
>>> random.uniform(init_key, (3,)).round(4)
array([0.8423, 0.1824, 0.2272], dtype=float32)

Matched: JAX 0.10.2 in its default ``jax_threefry_partitionable=True`` mode (the tests compare
with the installed JAX, so a change there fails them). ``key`` is ``jax.random.PRNGKey``;
``split``, ``fold_in``, ``bits`` (``dtype=uint32``), ``uniform``, ``bernoulli``, ``permutation``
and ``choice(replace=False)`` equal ``jax.random`` bit for bit, in every dtype, with or without
``jax_enable_x64``, and are bit-identical across backends. Two floating-point caveats:

* ``normal``, ``gumbel``, ``categorical`` use ``log``/``log1p``, whose last bit differs between
  math libraries: bit-equal to JAX under ``jax.jit``, within a few float32 ulps (1e-6)
  elsewhere; a categorical draw differs only where two perturbed logits tie to those ulps.
* ``uniform`` with bounds other than [0, 1): XLA fuses ``u * (maxval - minval) + minval``
  into one FMA where the hardware has it, so ``jax.random`` and our code under ``jax.jit`` can
  differ from the other backends by one ulp. The default interval is exact everywhere.

Keys are ``uint32`` arrays of shape ``(2,)``; on torch ``torch.uint32``, a storage-only dtype
(words are computed in int64 inside, see :mod:`mlprims.random._threefry`): convert ``bits`` with
``.to(torch.int64)`` for arithmetic. A legacy ``jax.random.PRNGKey`` is a key here; a typed
``jax.random.key`` needs ``jax.random.key_data`` first.

=================  ==========================================================================
``keys``           key, split, fold_in, bits
``distributions``  uniform, normal, gumbel, bernoulli, categorical, permutation, choice
``_threefry``      the Threefry-2x32 hash and its 32-bit words (emulated where the backend
                   has no uint32 arithmetic)
``_common``        shapes and devices the two public modules share
=================  ==========================================================================
"""

from .distributions import (
    bernoulli,
    categorical,
    choice,
    gumbel,
    normal,
    permutation,
    uniform,
)
from .keys import bits, fold_in, key, split

__all__ = [
    "bernoulli",
    "bits",
    "categorical",
    "choice",
    "fold_in",
    "gumbel",
    "key",
    "normal",
    "permutation",
    "split",
    "uniform",
]
