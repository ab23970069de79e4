"""The `tongguan` bundle's entry: the wall (`tongguan`), the desk (`tongguan desk`).

The wall's embedded backend is started as `sys.executable -m dispatch demo …`
(desktop/core/backend.py); frozen, sys.executable is this program, so that form runs the
backend's command line from the same bundle.
"""

import os
import sys

if sys.stderr is None:  # a windowed program (Windows: no console): the log goes to a file
    _logs = os.path.join(os.environ.get("LOCALAPPDATA") or os.path.expanduser("~"), "tongguan")
    os.makedirs(_logs, exist_ok=True)
    _name = "dispatch.log" if sys.argv[1:3] == ["-m", "dispatch"] else "tongguan.log"
    sys.stdout = sys.stderr = open(  # noqa: SIM115 - open for the life of the process
        os.path.join(_logs, _name), "a", encoding="utf-8", buffering=1
    )

if sys.argv[1:3] == ["-m", "dispatch"]:
    from dispatch.cli import main as dispatch_main

    sys.argv = ["dispatch", *sys.argv[3:]]
    sys.exit(dispatch_main(sys.argv[1:]))

from desktop.app import main

sys.exit(main())
