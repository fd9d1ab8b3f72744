"""``python -m apscores.sandbox``: the same as ``apscores sandbox serve``."""

from apscores.sandbox._server import main

raise SystemExit(main())
