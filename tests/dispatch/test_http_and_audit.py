"""Alert snapshot images over HTTP with the token header; logs that never carry a token."""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request

import pytest

from tests.dispatch.conftest import LINGHU, Running, detect_by, start_server
from tests.dispatch.test_server import handshake, report_args


def http_get(port: int, path: str, token: str | None = None) -> tuple[int, bytes, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers["Content-Type"]


async def detect(running: Running, street: str) -> int:
    camera = next(c for c in running.server.reference.cameras.values() if c.street == street)
    return await detect_by(running, camera.code)


async def test_snapshot_image_needs_token_and_jurisdiction(running_sqlite: Running) -> None:
    port = running_sqlite.port
    alert = await detect(running_sqlite, LINGHU)
    other = await detect(running_sqlite, "340803001")
    get = asyncio.to_thread
    status, body, ctype = await get(
        http_get, port, f"/snapshots/{alert}", running_sqlite.tokens["wall"]
    )
    assert status == 200 and body.startswith(b"<svg") and ctype == "image/svg+xml"
    status, _, _ = await get(http_get, port, f"/snapshots/{alert}")
    assert status == 401
    status, _, _ = await get(http_get, port, f"/snapshots/{alert}", "wrong")
    assert status == 401
    status, _, _ = await get(http_get, port, f"/snapshots/{alert}", running_sqlite.tokens["linghu"])
    assert status == 200
    status, _, _ = await get(http_get, port, f"/snapshots/{other}", running_sqlite.tokens["linghu"])
    assert status == 404
    status, body, _ = await get(http_get, port, "/health")
    assert status == 200 and body.startswith(b"ok")


async def test_logs_name_actors_and_never_tokens(running_sqlite: Running, caplog) -> None:
    caplog.set_level(logging.INFO)
    c = await running_sqlite.client("linghu")
    await handshake(c)
    ok = await c.command("report", report_args(running_sqlite))
    await c.command("close", {"event": ok.data["event"]})
    await c.ws.close()
    bad = await running_sqlite.client("wall")
    await bad.recv()
    text = caplog.text
    assert "菱湖分中心 report" in text and "illegal_transition" in text
    for token in running_sqlite.tokens.values():
        assert token not in text


async def test_restart_then_resume_replays(sqlite_store) -> None:
    first = await start_server(sqlite_store)
    c = await first.client("commander")
    welcome, snapshot = await handshake(c)
    await c.command("report", report_args(first))
    await c.ws.close()
    await first.server.stop()
    # Same database, new process state: the epoch holds, so a client resumes by replay.
    from dispatch.server import DispatchServer

    server = DispatchServer(sqlite_store, first.server.reference)
    port = await server.start("127.0.0.1", 0)
    try:
        from protocol.messages import Delta, Resume, Units, Welcome
        from tests.dispatch.conftest import open_client

        again = await open_client(
            port, first.tokens["commander"], Resume(epoch=welcome.epoch, seq=snapshot.seq)
        )
        w = await again.recv()
        assert isinstance(w, Welcome) and w.resume == "replay" and w.head == snapshot.seq + 1
        # No units version named in hello: the units come again before the replay.
        assert isinstance(await again.recv(), Units)
        delta = await again.recv()
        assert isinstance(delta, Delta) and delta.seq == snapshot.seq + 1
        await again.ws.close()
    finally:
        await server.stop()


@pytest.mark.parametrize("path", ["/nope", "/snapshots/abc"])
async def test_unknown_paths_404(running_sqlite: Running, path: str) -> None:
    status, _, _ = await asyncio.to_thread(
        http_get, running_sqlite.port, path, running_sqlite.tokens["wall"]
    )
    assert status == 404
