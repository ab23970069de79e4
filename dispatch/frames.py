"""Websocket framing done once per message, shared by every client that receives it."""

from __future__ import annotations

import msgspec

_encode = msgspec.json.Encoder().encode


def delta_json(seq: int, action: str, actor: str, at: float, data: bytes) -> bytes:
    """A `delta` message around an entity already encoded (as stored in the log)."""
    return b"".join(
        (
            b'{"type":"delta","seq":',
            str(seq).encode(),
            b',"action":',
            _encode(action),
            b',"actor":',
            _encode(actor),
            b',"at":',
            _encode(at),
            b',"data":',
            data,
            b"}",
        )
    )


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final websocket text frame carrying `payload` (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        return b"\x81" + bytes((size,)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload
