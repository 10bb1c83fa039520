"""`python -m bench` (what `just bench` runs)."""

import sys

from bench.cli import main

sys.exit(main())
