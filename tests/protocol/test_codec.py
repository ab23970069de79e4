"""Round trips and refusals of the protocol codec."""

import pytest

from protocol.codec import ProtocolError, decode_client, encode
from protocol.codes import ErrorCode
from protocol.messages import Command, Hello, Resume


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
