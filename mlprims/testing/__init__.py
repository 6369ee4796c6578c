"""The testing core the tests and the tools share: one case type, one comparison, float64 oracles.

============== ================================================================================
``Case``       a primitive, the inputs it is called on, its float64 reference (``check``'s
               cases, ``bench``'s cases)
``compare``    the one comparison, with one tolerance rule (``TOLERANCES``, ``tolerance``):
               a :class:`Comparison` for ``check`` and ``grade``; ``assert_close`` raises it
               for the tests; ``to_numpy`` and ``leaves`` walk a result's pytree
``oracles``    the float64 NumPy references, one module per family, written independently of
               the primitives (formulas, loops); used by ``tests/`` and by ``mlprims check``
``strategies`` hypothesis strategies for inputs (needs ``hypothesis``, a test dependency)
============== ================================================================================
"""

from ._case import Case, Inputs
from ._compare import (
    FLOAT_DTYPES,
    TOLERANCES,
    Comparison,
    assert_close,
    compare,
    leaves,
    to_numpy,
    tolerance,
)

__all__ = [
    "FLOAT_DTYPES",
    "TOLERANCES",
    "Case",
    "Comparison",
    "Inputs",
    "assert_close",
    "compare",
    "leaves",
    "to_numpy",
    "tolerance",
]
