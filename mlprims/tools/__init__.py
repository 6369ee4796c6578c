"""The command line (``mlprims check``) and the registry of check cases."""

__all__: list[str] = []
