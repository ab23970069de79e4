"""The `tongguan-dispatch` bundle's entry: the backend's command line (`dispatch …`)."""

import sys

from dispatch.cli import main

sys.argv[0] = "tongguan-dispatch"
sys.exit(main())
