"""`python -m uvtorch` runs the CLI."""

import sys

from uvtorch.cli import main

sys.exit(main())
