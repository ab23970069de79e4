"""A stop is bounded: SIGTERM (or SIGINT) ends a backend within 5 s whatever its clients do.

200 clients that stopped reading (their loops stalled, or the network link behind them is
dead) once made a stop wait 3 s for each in turn; systemd would SIGKILL it first.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from bench.rawclient import masked_frame
from dispatch.cli import main
from dispatch.store.store import Store
from tests.reliability.serving import serve

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 200


def stalled_client(port: int, token: str) -> socket.socket:
    """A websocket client that says hello, then never reads again (nor answers a close)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)  # the upgrade's answer, and not a byte more
    assert answer.startswith(b"HTTP/1.1 101"), answer
    hello = {"id": 1, "type": "hello", "protocol": 1, "token": token, "client": "stalled/1"}
    sock.sendall(masked_frame(0x1, json.dumps(hello).encode()))
    return sock


@pytest.mark.timeout(180)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_ends_within_5_s_with_200_clients_that_stopped_reading(tmp_path, stop) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-district"]) == 0
    store = Store(url)
    tokens = [store.create_user(f"墙{i}", "wall") for i in range(CLIENTS)]
    store.close()
    data = tmp_path / "data"
    proc, port = serve(url, data)
    clients: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        clients = [stalled_client(port, token) for token in tokens]
        # Each is welcomed and sent its snapshot, which fills its small window and stays
        # stuck in the server's buffers.
        for sock in clients:
            sock.settimeout(max(deadline - time.monotonic(), 0.1))
            assert sock.recv(1, socket.MSG_PEEK), "a client was not answered"
        time.sleep(0.5)
        began = time.monotonic()
        proc.send_signal(stop)
        status = proc.wait(timeout=60)
        took = time.monotonic() - began
    finally:
        if proc.poll() is None:
            proc.kill()
        for sock in clients:
            sock.close()
    assert status == 0
    text = (data / "backend.log").read_text()
    said = [line[:300] for line in text.splitlines() if "connected" not in line]
    said.append(f"signal at {began:.2f}")
    assert took <= 5.0, f"the stop took {took:.1f} s: " + "\n".join(said[-12:])
    assert "stopped" in text and "took over" not in text
