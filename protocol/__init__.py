"""Tongguan's wire contract (protocol v1): typed messages, one codec, codes. No Qt, no I/O."""

from protocol.codec import ProtocolError, decode_client, decode_server, encode, encode_text
from protocol.codes import CloseCode, ErrorCode
from protocol.messages import PROTOCOL_VERSION

__all__ = [
    "PROTOCOL_VERSION",
    "CloseCode",
    "ErrorCode",
    "ProtocolError",
    "decode_client",
    "decode_server",
    "encode",
    "encode_text",
]
