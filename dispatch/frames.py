"""Websocket framing done once per message, shared by every client that receives it."""

from __future__ import annotations


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final websocket text frame carrying `payload` (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        return b"\x81" + bytes((size,)) + payload
    if size < 65536:
        return b"\x81\x7e" + size.to_bytes(2, "big") + payload
    return b"\x81\x7f" + size.to_bytes(8, "big") + payload
