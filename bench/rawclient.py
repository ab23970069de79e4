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


class _Upgrading:
    """A client's websocket upgrade and end, shared by the raw clients below."""

    host: str
    port: int
    _key: str
    transport: asyncio.Transport
    snapshot: asyncio.Future[None]
    lost: asyncio.Future[None]

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


class RawClient(_Upgrading, asyncio.Protocol):
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


# ---- the cheap kind: counts frames, decodes nothing ------------------------------------------

_DELTA_HEAD = b'{"type":"delta"'
_PREFIX = len(_SNAPSHOT)  # payload bytes looked at: enough to tell a snapshot and a delta


class SkimClient(_Upgrading, asyncio.BufferedProtocol):
    """A websocket connection that counts delta frames and reads none of their payload.

    It reads into one buffer shared by every connection of the process (the loop calls
    get_buffer, recv_into and buffer_updated back to back for one socket), walks the frame
    headers and skips the payloads: no copy, no decoding, a few operations per frame. It is
    how thousands of connections fit in one client process; a sample of RawClients does the
    timing.
    """

    def __init__(self, host: str, port: int, hello: bytes, scratch: memoryview) -> None:
        self.host = host
        self.port = port
        self.hello = hello
        self.scratch = scratch
        self.transport: asyncio.Transport | None = None
        self.reply = bytearray()  # the HTTP upgrade response, until complete
        self.upgraded = False
        self.carry = b""  # the start of a frame whose header (or prefix) a read cut off
        self.skip = 0  # payload bytes of the current frame still to come
        self.snapshot = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.deltas = 0
        self.frames = 0
        self.close_code: int | None = None
        self._key = base64.b64encode(os.urandom(16)).decode()

    def get_buffer(self, sizehint: int) -> memoryview:
        """The process's shared receive buffer."""
        return self.scratch

    def buffer_updated(self, nbytes: int) -> None:
        """Walk the frames of what was just read."""
        data: bytes | memoryview = self.scratch[:nbytes]
        if not self.upgraded:
            self.reply += data
            end = self.reply.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.reply.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(bytes(self.reply[:200]).decode(errors="replace"))
            data = bytes(self.reply[end + 4 :])
            self.upgraded = True
            assert self.transport is not None
            self.transport.write(masked_frame(_OP_TEXT, self.hello))
        self.feed(data)

    def feed(self, data: bytes | memoryview) -> None:
        """Count the frames of the next bytes of the stream."""
        if self.carry:
            data = self.carry + bytes(data)  # rare: a frame's first bytes were cut off
            self.carry = b""
        self.walk(data)

    def walk(self, data: bytes | memoryview) -> None:
        """Count the frames in `data`, which starts `self.skip` bytes before a frame."""
        size = len(data)
        pos = self.skip
        if pos >= size:
            self.skip = pos - size
            return
        self.skip = 0
        while pos < size:
            if size - pos < 2:
                self.carry = bytes(data[pos:])
                return
            n = data[pos + 1] & 0x7F
            start = pos + 2
            if n == 126:
                start = pos + 4
                if size < start:
                    self.carry = bytes(data[pos:])
                    return
                n = (data[pos + 2] << 8) | data[pos + 3]
            elif n == 127:
                start = pos + 10
                if size < start:
                    self.carry = bytes(data[pos:])
                    return
                n = int.from_bytes(data[pos + 2 : pos + 10], "big")
            opcode = data[pos] & 0x0F
            end = start + n
            if opcode == _OP_TEXT:
                if size - start < min(n, _PREFIX):
                    self.carry = bytes(data[pos:])
                    return
                self.frames += 1
                if data[start : start + len(_DELTA_HEAD)] == _DELTA_HEAD:
                    self.deltas += 1
                elif not self.snapshot.done() and data[start : start + _PREFIX] == _SNAPSHOT:
                    self.snapshot.set_result(None)
            else:
                if end > size:  # a control frame (<= 125 bytes): take it whole
                    self.carry = bytes(data[pos:])
                    return
                self.frames += 1
                self.control(opcode, bytes(data[start:end]))
            if end > size:
                self.skip = end - size
                return
            pos = end

    def control(self, opcode: int, payload: bytes) -> None:
        """Answer a ping, note a close."""
        assert self.transport is not None
        if opcode == _OP_PING:
            self.transport.write(masked_frame(_OP_PONG, payload))
        elif opcode == _OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 0
            self.transport.close()


async def connect_skim(host: str, port: int, hello: bytes, scratch: memoryview) -> SkimClient:
    """Open a counting connection and send hello once upgraded."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: SkimClient(host, port, hello, scratch), host, port
    )
    return client
