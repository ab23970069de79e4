"""The backend's worker pools have every thread before their first task."""

from __future__ import annotations

import threading

from dispatch.pools import started_pool


def test_a_started_pool_has_all_its_threads_at_once_and_makes_no_more() -> None:
    before = threading.active_count()
    pool = started_pool(4, "probe")
    try:
        assert threading.active_count() == before + 4
        names = {t.name for t in threading.enumerate() if t.name.startswith("probe")}
        assert len(names) == 4
        # Eight tasks at once, some blocking: still the same four threads.
        gate = threading.Event()
        futures = [pool.submit(gate.wait, 5.0) for _ in range(8)]
        gate.set()
        assert all(f.result() for f in futures)
        assert threading.active_count() == before + 4
    finally:
        pool.shutdown(wait=True)
    assert threading.active_count() == before
