"""Worker threads made whole at start, so a long-running backend's thread count is flat.

An executor starts its threads lazily, one per task that finds none idle; a backend whose
pool grows from 3 to 6 workers an hour into a run looks, to anyone counting threads, like a
leak. These pools have all their workers before the first client connects.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

START_TIMEOUT = 10.0  # seconds for every worker to be up; a machine that slow has worse trouble


def default_workers() -> int:
    """As many workers as asyncio's own default executor may grow to."""
    return min(32, (os.cpu_count() or 1) + 4)


def started_pool(workers: int, prefix: str) -> ThreadPoolExecutor:
    """A thread pool of `workers` threads, every one of them started before this returns."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix=prefix)
    # Each task waits for all the others: the pool must give every one its own thread.
    everyone = threading.Barrier(workers)
    for future in [pool.submit(everyone.wait, START_TIMEOUT) for _ in range(workers)]:
        future.result()
    return pool
