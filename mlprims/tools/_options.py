"""Checking the names a user gives to ``--backends``, ``--primitives`` and the like."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

__all__ = ["choose"]


def choose(
    option: str,
    given: Sequence[str] | None,
    choices: Sequence[str],
    *,
    also: Sequence[str] = (),
) -> list[str]:
    """`given` checked against `choices` (all of them if None): a typo is an error, not a skip.

    Names in `also` are accepted too without being listed in the message.
    """
    if given is None:
        return list(choices)
    if not given:
        msg = f"{option} is empty; choose from: {', '.join(choices)}"
        raise ValueError(msg)
    unknown = [name for name in given if name not in choices and name not in also]
    if unknown:
        hints = [
            f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
            for name in unknown
            for close in [difflib.get_close_matches(name, choices, n=1)]
        ]
        msg = f"{option} names unknown {', '.join(hints)}; choose from: {', '.join(choices)}"
        raise ValueError(msg)
    return list(dict.fromkeys(given))
