"""Round trips and refusals of the protocol codec."""

import pytest

from protocol.codec import ProtocolError, convert, decode_client, decode_server, encode, to_builtins
from protocol.codes import ErrorCode
from protocol.messages import Command, Hello, History, HistoryEntry, Result, Resume


def test_hello_round_trip() -> None:
    hello = Hello(id=1, protocol=1, token="t", client="pytest", resume=Resume(epoch="e", seq=7))
    assert decode_client(encode(hello)) == hello


def test_unknown_field_is_refused_with_its_id() -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(b'{"id":5,"type":"command","command_id":"c","op":"x","zz":1}')
    assert info.value.code is ErrorCode.BAD_MESSAGE
    assert info.value.request_id == 5


def test_command_defaults() -> None:
    cmd = decode_client(b'{"id":2,"type":"command","command_id":"c","op":"accept"}')
    assert isinstance(cmd, Command) and cmd.args == {}


def test_history_round_trip_and_refusals() -> None:
    request = History(id=4, event=17)
    assert encode(request) == b'{"type":"history","id":4,"event":17}'
    assert decode_client(encode(request)) == request
    for frame, why in [
        (b'{"type":"history","id":5,"event":0}', "Expected `int` >= 1 - at `$.event`"),
        (b'{"type":"history","id":5,"event":3,"since":1}', "unknown field `since`"),
        (b'{"type":"history","id":5}', "missing required field `event`"),
    ]:
        with pytest.raises(ProtocolError) as info:
            decode_client(frame)
        assert info.value.code is ErrorCode.BAD_MESSAGE and info.value.request_id == 5
        assert why in info.value.message


def test_history_entries_convert_from_a_result() -> None:
    entry = HistoryEntry(
        seq=9,
        at=1795316024.5,
        actor="指挥长",
        action="dispatch",
        status="dispatched",
        level="grid",
        assignee="网格员 张三",
        text="dispatch: 请今日处理",
    )
    answer = Result(id=4, data={"event": 17, "entries": [to_builtins(entry)], "truncated": False})
    decoded = decode_server(encode(answer))
    assert isinstance(decoded, Result)
    assert [convert(e, HistoryEntry) for e in decoded.data["entries"]] == [entry]
    # Every field is sent, also "" ones; an unknown status or a missing field is refused.
    empty = to_builtins(HistoryEntry(1, 1.0, "a", "report", "reported", "grid", "", ""))
    assert empty["assignee"] == "" and empty["text"] == ""
    for bad in ({**empty, "status": "lost"}, {k: v for k, v in empty.items() if k != "text"}):
        with pytest.raises(ProtocolError) as info:
            convert(bad, HistoryEntry)
        assert info.value.code is ErrorCode.BAD_ARGS


@pytest.mark.parametrize(
    ("frame", "request_id"),
    [
        (b'{"id":5,"type":"pong"}', 5),
        (b'{"id":-2,"type":"hello "}', -2),  # any integer is an id (§2)
        (b'{"id":12345678901234567890123,"type":"pong"}', 12345678901234567890123),
        (b'{"type":"pong","args":{"id":5},"id":9}', 9),  # its own id, not one in its args
        (b'{"type":"pong","args":{"id":5}}', 0),
        (b'{"id":2.5,"type":"ping"}', 0),  # not an integer: no id, rather than 2
        (b'{"id":1e308,"type":"ping"}', 0),
        (b'{"id":"7","type":"ping"}', 0),
        (b'{"id":7,"type":"ping"', 0),  # not JSON
        (b'[{"id":7}]', 0),
    ],
)
def test_a_refused_frame_is_answered_with_its_own_id_or_0(frame: bytes, request_id: int) -> None:
    """§11: the error carries the frame's id when it can be read, else 0. It used to carry
    the first 1-18 digits after any `"id":` (2 for 2.5, 123456789012345678 for a longer id,
    an id from the args), an id the client may have given another request (found by
    tests/reliability's fuzzing)."""
    with pytest.raises(ProtocolError) as info:
        decode_client(frame)
    assert info.value.code is ErrorCode.BAD_MESSAGE
    assert info.value.request_id == request_id
