"""The command line (``mlprims check``, ``bench``, ``practice``, ``grade``, ``differences``)."""

__all__: list[str] = []
