"""The GUI thread's priority, level with QtWebEngine's display threads where allowed."""

from __future__ import annotations

import os
import threading

from desktop.core.priority import DISPLAY_CRITICAL_NICE, make_display_critical


def _in_a_thread(results: list[tuple[bool, int, int]]) -> None:
    tid = threading.get_native_id()
    raised = make_display_critical()
    again = make_display_critical()  # already there: nothing changes
    results.append((raised and again, os.getpriority(os.PRIO_PROCESS, tid), tid))


def test_only_the_calling_thread_is_raised_and_only_when_allowed() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    results: list[tuple[bool, int, int]] = []
    thread = threading.Thread(target=_in_a_thread, args=(results,))
    thread.start()
    thread.join()
    (raised, nice, _tid) = results[0]
    allowed = os.geteuid() == 0  # root (or CAP_SYS_NICE): as Chromium may raise its own
    if allowed:
        assert raised and nice == DISPLAY_CRITICAL_NICE
    else:
        assert not raised and nice == before
    # This thread (the test runner's) kept its priority: nice is per thread on Linux.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before
