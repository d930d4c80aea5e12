"""`python -m optica_core render|farm …`: see optica_core.cli."""

import sys

from .cli import main

sys.exit(main())
