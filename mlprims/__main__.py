"""``python -m mlprims check``: the same command line as the ``mlprims`` script."""

from .tools.cli import main

raise SystemExit(main())
