"""A backend of its own process for tests/dispatch/test_risk.py: `python -m
tests.dispatch.risk_backend DB READY` serves the SQLite store DB and retrains its
deadline-risk model back to back (a training process nearly always under way), writes READY
once it listens, and stops as the CLI's does on SIGTERM (server.stop())."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from bench.risk import END
from dispatch.app import load_reference
from dispatch.clock import Clock
from dispatch.limits import Limits
from dispatch.pools import default_workers, started_pool
from dispatch.server import DispatchServer
from dispatch.store.store import Store


async def serve(db: Path, ready: Path) -> None:
    """Serve until SIGTERM, then stop."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(started_pool(default_workers(), "asyncio"))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    store = Store(f"sqlite:///{db}")
    limits = Limits(risk_interval=0.2, risk_first_delay=0.0, risk_retrain=0.2)
    server = DispatchServer(store, load_reference(store), Clock(speed=1.0, start=END + 60), limits)
    try:
        await server.start("127.0.0.1", 0)
        await asyncio.to_thread(ready.write_text, str(server.port))
        await stop.wait()
    finally:
        await server.stop()
        with contextlib.suppress(Exception):
            store.close()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2])))
