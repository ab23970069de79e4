"""docs/protocol.md against the codec: the history section's example frames and fields."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from protocol.codec import ProtocolError, convert, decode_client, decode_server
from protocol.codes import ErrorCode
from protocol.messages import HISTORY_LIMIT, Error, History, HistoryEntry, Result

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def section(title: str) -> str:
    """The text of a `###` section of the document, up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n### {title}\n")
    end = re.compile(r"\n#{2,3} ").search(text, start + 1)
    assert end is not None
    return text[start : end.start()]


def frames(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The frames of a section's json blocks, in order, as (direction, JSON): each begins
    on a line starting with `>` (client) or `<` (server) and may span several lines."""
    found = []
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        for frame in re.split(r"^(?=[<>] )", block, flags=re.M):
            if frame.strip():
                found.append((frame[0], json.loads(frame[1:])))
    return found


def test_the_history_examples_are_what_the_codec_reads_and_writes() -> None:
    shown = frames(section("6.8 history"))
    assert [d for d, _ in shown] == [">", "<"] * 3
    kinds = []
    for (_, request), (_, answer) in zip(shown[::2], shown[1::2], strict=True):
        raw = json.dumps(request, ensure_ascii=False)
        reply = decode_server(json.dumps(answer, ensure_ascii=False))
        assert isinstance(reply, (Result, Error)) and reply.id == request["id"]
        if isinstance(reply, Error) and reply.code == ErrorCode.BAD_MESSAGE:
            # The refusal shown is the codec's own, word for word.
            with pytest.raises(ProtocolError) as info:
                decode_client(raw)
            assert (info.value.request_id, info.value.message) == (reply.id, reply.message)
            kinds.append("refused")
            continue
        message = decode_client(raw)
        assert isinstance(message, History)
        if isinstance(reply, Error):
            assert reply.code == ErrorCode.NOT_FOUND
            assert reply.message == f"no event {message.event}"
            kinds.append("not_found")
            continue
        assert set(reply.data) == {"event", "entries", "truncated"}
        assert reply.data["event"] == message.event and reply.data["truncated"] is False
        entries = [convert(e, HistoryEntry) for e in reply.data["entries"]]
        assert [e.seq for e in entries] == sorted(e.seq for e in entries)
        # Every field is shown, as the server sends them all.
        assert all(set(e) == set(HistoryEntry.__struct_fields__) for e in reply.data["entries"])
        kinds.append("result")
    assert kinds == ["result", "not_found", "refused"]


def test_the_history_fields_table_lists_the_struct() -> None:
    text = section("6.8 history")
    listed = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert listed == list(HistoryEntry.__struct_fields__)
    assert f"newest {HISTORY_LIMIT}" in text
