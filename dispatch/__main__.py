"""`python -m dispatch`: the backend's command line."""

import sys

from dispatch.cli import main

sys.exit(main())
