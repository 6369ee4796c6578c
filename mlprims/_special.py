"""Special functions the array API standard lacks (erf, ...), written portably in its terms.

Private: primitives import what they need from here.
"""

from __future__ import annotations

__all__: list[str] = []
