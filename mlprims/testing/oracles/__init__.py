"""Float64 NumPy references, one module per family of :mod:`mlprims`.

Each is written independently of the primitive it checks (a formula, a loop, a different
algorithm), uses NumPy only, and is shared by ``tests/`` and ``mlprims check``.
"""

__all__: list[str] = []
