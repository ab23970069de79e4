"""The GUI thread's scheduling priority, level with QtWebEngine's display threads.

Chromium raises its own display-critical threads (the renderer's main thread, the
compositors) to nice -8 whenever the OS lets it, which on Linux means when it runs as root
or with CAP_SYS_NICE, as a kiosk often does. Our GUI thread paints the queue, the KPIs and
the banner, and is just as display-critical: left at nice 0 it waits behind the map's
renderer whenever the cores are busy. Where Chromium may raise its threads, we raise ours to
the same level; where it may not, neither changes and both stay level.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("desktop.core.priority")

DISPLAY_CRITICAL_NICE = -8  # Chromium's ThreadType::kDisplayCritical on Linux


def make_display_critical() -> bool:
    """Give the calling thread Chromium's display priority if allowed; True if it has it.

    Only this thread changes (Linux applies nice per thread); threads it starts afterwards
    inherit it, so call it once the helper threads and child processes are running.
    """
    if not hasattr(os, "setpriority"):
        return False
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        if current <= DISPLAY_CRITICAL_NICE:
            return True
        os.setpriority(os.PRIO_PROCESS, tid, DISPLAY_CRITICAL_NICE)
    except OSError as exc:  # not root, no CAP_SYS_NICE: Chromium could not raise its own
        log.debug("GUI thread stays at its priority: %s", exc)
        return False
    log.info("GUI thread at nice %d, level with the map's display threads", DISPLAY_CRITICAL_NICE)
    return True
