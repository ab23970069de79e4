"""The one codec: JSON text frames <-> typed messages, raising only ProtocolError."""

from __future__ import annotations

from typing import Any

import msgspec

from protocol.codes import ErrorCode
from protocol.messages import ClientMessage, ServerMessage

_encoder = msgspec.json.Encoder()
_client_decoder = msgspec.json.Decoder(ClientMessage)
_server_decoder = msgspec.json.Decoder(ServerMessage)


class ProtocolError(Exception):
    """A frame that is not a valid message; `request_id` is its id when one could be read."""

    def __init__(self, code: ErrorCode, message: str, request_id: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def encode(message: msgspec.Struct) -> bytes:
    """Serialise a message (or entity) to UTF-8 JSON bytes."""
    return _encoder.encode(message)


def encode_text(message: msgspec.Struct) -> str:
    """Serialise a message to a str, for websocket text frames."""
    return _encoder.encode(message).decode()


def _as_bytes(data: bytes | str | bytearray | memoryview) -> bytes:
    if isinstance(data, str):
        try:
            return data.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "frame is not valid UTF-8") from exc
    try:
        return bytes(data)
    except Exception as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "frame is not bytes or text") from exc


class _Id(msgspec.Struct):
    """A frame's `id` alone; every other field is skipped."""

    id: int = 0


_id_decoder = msgspec.json.Decoder(_Id)


def _best_effort_id(raw: bytes) -> int:
    # A refused message still deserves an error carrying its id when one is legible (§11):
    # the frame is a JSON object whose own `id` is an integer. Anything else gets 0, never a
    # guess (the first digits of a float or of a long id, an `id` nested in the args).
    try:
        return _id_decoder.decode(raw).id
    except Exception:
        return 0


def _decode(decoder: msgspec.json.Decoder[Any], data: bytes | str | bytearray | memoryview) -> Any:
    raw = _as_bytes(data)
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, str(exc), _best_effort_id(raw)) from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"malformed JSON: {exc}") from exc
    except Exception as exc:  # a string that is not UTF-8 (a binary frame), or the unforeseen
        message = f"undecodable frame: {exc}"
        raise ProtocolError(ErrorCode.BAD_MESSAGE, message, _best_effort_id(raw)) from exc


def decode_client(data: bytes | str | bytearray | memoryview) -> ClientMessage:
    """Decode a client->server frame; raise ProtocolError on anything invalid."""
    message: ClientMessage = _decode(_client_decoder, data)
    return message


def decode_server(data: bytes | str | bytearray | memoryview) -> ServerMessage:
    """Decode a server->client frame; raise ProtocolError on anything invalid."""
    message: ServerMessage = _decode(_server_decoder, data)
    return message


def to_builtins(value: Any) -> Any:
    """Convert a struct to plain dicts/lists (for storage and hashing)."""
    return msgspec.to_builtins(value)


def convert[T](value: Any, kind: type[T]) -> T:
    """Validate plain data against a struct type; raise ProtocolError(BAD_ARGS) on mismatch."""
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_ARGS, str(exc)) from exc
