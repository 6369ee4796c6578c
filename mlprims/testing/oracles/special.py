"""Float64 NumPy oracles for :mod:`mlprims._special`: Python's :func:`math.erf`, element by
element (the C library's, not Cody's rational approximations that :func:`mlprims._special.erf`
uses). Shared by ``tests/`` and ``mlprims check``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["erf_reference"]

_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf_reference(x):
    """The error function by :func:`math.erf`, element by element, in float64; matches ``erf``."""
    return _erf(np.asarray(x, dtype=np.float64))
