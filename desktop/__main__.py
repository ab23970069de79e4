"""`python -m desktop`: see desktop/app.py."""

import sys

from desktop.app import main

sys.exit(main())
