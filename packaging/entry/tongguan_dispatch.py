"""The `tongguan-dispatch` bundle's entry: the backend's command line (`dispatch …`)."""

import multiprocessing
import sys

# A frozen program is its own Python: the deadline-risk training's worker process (spawned,
# dispatch/risk_process.py) starts as this program, which must become that worker here.
multiprocessing.freeze_support()

from dispatch.cli import main  # noqa: E402

sys.argv[0] = "tongguan-dispatch"
sys.exit(main())
