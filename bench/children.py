"""Child processes of a bench or a test (backends, gateways): stopped cleanly, or killed."""

from __future__ import annotations

import signal
import subprocess


def stop_process(proc: subprocess.Popen[bytes] | None, grace: float = 15.0) -> int | None:
    """Stop a child still running (woken first, if paused): SIGTERM, killed after `grace`
    seconds; its exit status (None: no child)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
