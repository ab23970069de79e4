"""Records a live message stream from a demo backend for the replica tests.

    PYTHONPATH=. .venv/bin/python -m tests.desktop.record_stream tests/desktop/data/linghu.jsonl.gz

Starts an embedded backend (speed 120) on a temporary data dir, connects as 菱湖街道 staff
(one street: a small units message), and writes every frame received for ~10 s, gzipped,
one per line.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from desktop.core.backend import EmbeddedBackend
from protocol.codec import encode
from protocol.messages import PROTOCOL_VERSION, Hello


async def record(out: Path, seconds: float = 10.0) -> int:
    """Record `seconds` of frames into `out`; return how many."""
    with tempfile.TemporaryDirectory() as data:
        backend = EmbeddedBackend(data, user="demo-linghu", args=["--speed", "120"])
        backend.start()
        try:
            url, token = await backend.wait_ready(90)
            frames: list[str] = []
            async with connect(url, max_size=None) as ws:
                hello = Hello(id=1, protocol=PROTOCOL_VERSION, token=token, client="recorder")
                await ws.send(encode(hello).decode())
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    try:
                        raw = await asyncio.wait_for(ws.recv(), end - time.monotonic())
                    except TimeoutError:
                        break
                    frames.append(raw if isinstance(raw, str) else raw.decode())
        finally:
            backend.stop()
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for frame in frames:
            f.write(frame.replace("\n", " ") + "\n")
    return len(frames)


if __name__ == "__main__":
    print(asyncio.run(record(Path(sys.argv[1]))), "frames")
