"""The `tongguan` bundle's entry: the wall (`tongguan`), the desk (`tongguan desk`).

The wall's embedded backend is started as `sys.executable -m dispatch demo …`
(desktop/core/backend.py); frozen, sys.executable is this program, so that form runs the
backend's command line from the same bundle.
"""

import sys

if sys.argv[1:3] == ["-m", "dispatch"]:
    from dispatch.cli import main as dispatch_main

    sys.argv = ["dispatch", *sys.argv[3:]]
    sys.exit(dispatch_main(sys.argv[1:]))

from desktop.app import main

sys.exit(main())
