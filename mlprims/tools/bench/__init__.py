"""``mlprims bench``: our primitives against the frameworks' own ops, timed side by side."""

__all__: list[str] = []
