"""`python -m inference`: the command line (inference/cli.py)."""

import sys

from inference.cli import main

sys.exit(main())
