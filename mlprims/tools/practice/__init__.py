"""``mlprims practice`` and ``mlprims grade``: write a primitive yourself, graded by mlprims.

``mlprims practice NAME`` writes a template (mlprims' signature and docstring with the formula
and the shapes, a body that raises NotImplementedError); ``mlprims grade PATH --primitive NAME``
imports the function NAME from PATH, written with NumPy, torch or JAX, and checks it against the
mlprims reference on hypothesis-drawn cases, one :class:`Property` at a time (shapes, dtypes and
the edge cases that catch the classic mistakes: biased variance, a large mean, a fully masked
row, an empty cluster...). Each family's properties live in a module of their own, gathered
in :mod:`.specs`; :mod:`.grading` runs them, :mod:`.template` writes the practice file and
``_command`` is the command line. Nothing is imported here: ``mlprims check`` does not need
hypothesis, which grading does (``pip install 'mlprims[practice]'``); writing a template
does not.
"""

from __future__ import annotations

__all__: list[str] = []
