"""A minimal raw-asyncio websocket client that only timestamps the seq of each delta.

It exists so that 100 clients cost a fraction of a core: no websocket library, no JSON
decoding, one `time.time()` per read and a regex on the first bytes of each text frame.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import time
from array import array
from dataclasses import dataclass

_DELTA = re.compile(rb'\{"type":"delta","seq":(\d+)')
_SNAPSHOT = b'{"type":"snapshot"'
_OP_TEXT, _OP_CLOSE, _OP_PING, _OP_PONG = 0x1, 0x8, 0x9, 0xA


def masked_frame(opcode: int, payload: bytes) -> bytes:
    """One final client->server frame, masked as RFC 6455 section 5.3 requires."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    # XOR four bytes at a time through one big int: fast enough for hello and pongs.
    key = int.from_bytes(mask * (n // 4 + 1), "big") >> (8 * (4 - n % 4) if n % 4 else 32)
    body = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
    return header + mask + body


@dataclass(slots=True)
class Received:
    """What one client saw: runs of consecutive seqs that arrived in one read, and faults."""

    starts: array[int]
    ends: array[int]
    times: array[float]
    out_of_order: int
    close_code: int | None
    frames: int


class RawClient(asyncio.Protocol):
    """One websocket connection that sends hello and records (seq, receipt time) of deltas."""

    def __init__(self, host: str, port: int, hello: bytes) -> None:
        self.host = host
        self.port = port
        self.hello = hello
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.snapshot = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.starts: array[int] = array("q")
        self.ends: array[int] = array("q")
        self.times: array[float] = array("d")
        self.last = -1
        self.out_of_order = 0
        self.close_code: int | None = None
        self.frames = 0
        self._key = base64.b64encode(os.urandom(16)).decode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send the HTTP upgrade request."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            (
                f"GET / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self._key}\r\nSec-WebSocket-Version: 13\r\n"
                "User-Agent: tongguan-bench\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        """Note the end; a client that never got its snapshot fails its wait."""
        if not self.snapshot.done():
            self.snapshot.set_exception(ConnectionError(f"closed before snapshot: {exc}"))
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        """Parse whatever frames are complete; timestamp the deltas among them."""
        now = time.time()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(bytes(buf[:200]).decode(errors="replace"))
            del buf[: end + 4]
            self.upgraded = True
            assert self.transport is not None
            self.transport.write(masked_frame(_OP_TEXT, self.hello))
        pos = 0
        size = len(buf)
        match = _DELTA.match
        while size - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            if b1 < 126:
                start = pos + 2
            elif b1 == 126:
                if size - pos < 4:
                    break
                b1 = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            else:
                if size - pos < 10:
                    break
                b1 = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + b1
            if end > size:
                break  # a partial frame (the snapshot arrives in many reads): wait for more
            opcode = buf[pos] & 0x0F
            self.frames += 1
            if opcode == _OP_TEXT:
                found = match(buf, start, end)
                if found is not None:
                    seq = int(found.group(1))
                    if seq == self.last + 1 and self.times and self.times[-1] == now:
                        self.ends[-1] = seq
                    else:
                        if seq <= self.last:
                            self.out_of_order += 1
                        self.starts.append(seq)
                        self.ends.append(seq)
                        self.times.append(now)
                    self.last = seq
                elif not self.snapshot.done() and buf.startswith(_SNAPSHOT, start):
                    self.snapshot.set_result(None)
            elif opcode == _OP_PING:
                assert self.transport is not None
                self.transport.write(masked_frame(_OP_PONG, bytes(buf[start:end])))
            elif opcode == _OP_CLOSE:
                self.close_code = int.from_bytes(buf[start : start + 2], "big") if b1 >= 2 else 0
                assert self.transport is not None
                self.transport.close()
            pos = end
        if pos:
            del buf[:pos]

    def received(self) -> Received:
        """The record so far."""
        return Received(
            self.starts, self.ends, self.times, self.out_of_order, self.close_code, self.frames
        )


async def connect(host: str, port: int, hello: bytes) -> RawClient:
    """Open a connection and send hello once upgraded (the snapshot arrives later)."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: RawClient(host, port, hello), host, port)
    return client
