"""What the tests and ``mlprims check`` share: float64 oracles, tolerances, hypothesis strategies.

============== ================================================================================
``oracles``    the float64 NumPy references, one module per family, written independently of
               the primitives (formulas, loops); used by ``tests/`` and by ``mlprims check``
``strategies`` hypothesis strategies for inputs (needs ``hypothesis``, a test dependency)
(this module)  ``assert_close`` and ``tolerance``: dtype-aware comparisons
============== ================================================================================
"""

from ._compare import FLOAT_DTYPES, assert_close, tolerance

__all__ = ["FLOAT_DTYPES", "assert_close", "tolerance"]
