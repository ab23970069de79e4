"""Decoding never raises anything but ProtocolError; every message type round-trips."""

from __future__ import annotations

import contextlib
import json

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import ProtocolError, decode_client, decode_server, encode
from protocol.entities import Alert, Duty, Kpi, Person, Reference
from protocol.messages import (
    Command,
    Delta,
    Error,
    Hello,
    Kpis,
    Ping,
    Result,
    Resume,
    Snapshot,
    Units,
)
from tests.factories import make_alert, make_event, make_welcome

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_protocol_error(data: bytes) -> None:
    for decode in (decode_client, decode_server):
        with contextlib.suppress(ProtocolError):
            decode(data)


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["id", "type", "token", "protocol", "op", "args", "command_id", "resume", "seq", "data"]
        ),
        json_values,
        max_size=6,
    )
)
def test_arbitrary_objects_only_raise_protocol_error(obj: dict) -> None:
    raw = json.dumps(obj).encode()
    for decode in (decode_client, decode_server):
        try:
            decode(raw)
        except ProtocolError as exc:
            assert exc.code == "bad_message"


@settings(deadline=None)
@given(st.text())
def test_arbitrary_text_frames(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        decode_client(text)


EVENT = make_event(
    1, source="camera", priority=2, status="dispatched", level="street", deadline=3.0, overdue=True
)
ALERT = make_alert(2, count=3, last_at=2.0)
DUTY = Duty(
    day="2026-11-22", commander=Person(name="王", title="副区长"), roster=[], handover_at=1.0
)


def test_every_message_round_trips() -> None:
    client = [
        Hello(id=1, protocol=1, token="t", resume=Resume(epoch="e", seq=3)),
        Command(id=2, command_id="c", op="accept", args={"event": 1}),
        Ping(id=3),
    ]
    for message in client:
        assert decode_client(encode(message)) == message
    reference = Reference(
        district="340803",
        district_name="大观区",
        outline=[],
        streets=[],
        communities=[],
        grids=[],
        departments=[],
        cameras=[],
        categories=[],
    )
    server = [
        make_welcome(user="u", head=5, server_time=1.0),
        Units(version="v1", reference=reference),
        Snapshot(
            epoch="e",
            seq=5,
            reason="initial",
            reference="v1",
            events=[EVENT],
            alerts=[ALERT],
            duty=DUTY,
            kpis={"district": Kpi(received=1)},
        ),
        Delta(seq=6, action="dispatch", actor="a", at=1.0, data=EVENT),
        Delta(seq=7, action="detect", actor="a", at=1.0, data=ALERT),
        Delta(seq=8, action="handover", actor="a", at=1.0, data=DUTY),
        Kpis(at=1.0, scopes={"district": Kpi(on_time_rate=0.98)}),
        Result(id=2, command_id="c", seq=6, data={"event": 1}),
        Error(id=3, code="forbidden", message="no"),
    ]
    for message in server:
        assert decode_server(encode(message)) == message


def test_client_may_not_send_server_types() -> None:
    frame = encode(Error(id=1, code="x", message="y"))
    try:
        decode_client(frame)
    except ProtocolError as exc:
        assert exc.code == "bad_message"
    else:
        raise AssertionError("a server message decoded as a client message")


def test_delta_data_kind_selects_the_entity() -> None:
    raw = msgspec.json.encode(
        {
            "type": "delta",
            "seq": 1,
            "action": "a",
            "actor": "b",
            "at": 1,
            "data": msgspec.to_builtins(ALERT),
        }
    )
    delta = decode_server(raw)
    assert isinstance(delta, Delta) and isinstance(delta.data, Alert)
