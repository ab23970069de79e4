"""The `tongguan-dispatch` bundle's entry: the backend's command line (`dispatch …`)."""

import sys

from dispatch.cli import main

# `-m dispatch` too, as the `tongguan` bundle's entry takes it: the backend starts its
# deadline-risk training process as `sys.executable -m dispatch train-risk` (frozen,
# sys.executable is this program).
if sys.argv[1:3] == ["-m", "dispatch"]:
    del sys.argv[1:3]
sys.argv[0] = "tongguan-dispatch"
sys.exit(main())
