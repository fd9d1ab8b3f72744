"""``python -m apscores``: the same as the ``apscores`` command."""

import sys

from apscores.cli import main

if __name__ == "__main__":
    sys.exit(main())
