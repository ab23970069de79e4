"""docs/protocol.md against the codec: the history and admin sections' example frames and
fields, and the close code a changed user's connections get."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from protocol.codec import ProtocolError, convert, decode_client, decode_server
from protocol.codes import RESUMABLE_CLOSE_CODES, CloseCode, ErrorCode
from protocol.messages import (
    HISTORY_LIMIT,
    USER_NAME_MAX,
    CreateUser,
    Error,
    History,
    HistoryEntry,
    Result,
    RevokeUser,
    UserEntry,
    Users,
)

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


def test_the_admin_examples_are_what_the_codec_reads_and_writes() -> None:
    """Every request of §6.9 decodes as sent, and every answer is what the server's rules
    give for it: the data's shape, the store's own refusal messages, the codec's."""
    from dispatch.store.store import check_user

    def known(kind: str) -> set[str]:  # the examples' district: one street, one community
        return {"street": {"340803004"}, "community": {"340803004001"}}[kind]

    shown = frames(section("6.9 users, create_user, revoke_user (admin)"))
    assert [d for d, _ in shown] == [">", "<"] * 8
    kinds = []
    for (_, request), (_, answer) in zip(shown[::2], shown[1::2], strict=True):
        raw = json.dumps(request, ensure_ascii=False)
        reply = decode_server(json.dumps(answer, ensure_ascii=False))
        assert isinstance(reply, (Result, Error)) and reply.id == request["id"]
        if isinstance(reply, Error) and reply.code == ErrorCode.BAD_MESSAGE:
            with pytest.raises(ProtocolError) as info:
                decode_client(raw)
            assert (info.value.request_id, info.value.message) == (reply.id, reply.message)
            kinds.append("refused")
            continue
        message = decode_client(raw)
        assert isinstance(message, (Users, CreateUser, RevokeUser))
        if isinstance(reply, Error):
            if reply.code == ErrorCode.FORBIDDEN:
                action = {RevokeUser: "revoke_user", CreateUser: "create_user"}[type(message)]
                assert reply.message.endswith(f"may not {action}")
            elif reply.code == ErrorCode.NOT_FOUND:
                assert isinstance(message, RevokeUser)
                assert reply.message == f"no user {message.name}"
            else:
                assert reply.code == ErrorCode.BAD_ARGS and isinstance(message, CreateUser)
                with pytest.raises(ValueError) as refusal:
                    check_user(
                        message.name,
                        message.role,
                        message.streets,
                        message.communities,
                        known,
                        "wire",
                    )
                assert str(refusal.value) == reply.message
            kinds.append(reply.code)
            continue
        if isinstance(message, Users):
            users = [convert(u, UserEntry) for u in reply.data["users"]]
            assert set(reply.data) == {"users"} and users
            assert all(set(u) == set(UserEntry.__struct_fields__) for u in reply.data["users"])
            assert all(u.jurisdiction == sorted(u.jurisdiction) for u in users)
        elif isinstance(message, CreateUser):
            check_user(
                message.name, message.role, message.streets, message.communities, known, "wire"
            )
            assert reply.data == {"user": message.name, "token": "<token>"}
        else:
            assert reply.data == {"user": message.name}
        kinds.append(type(message).__name__)
    assert kinds == [
        "Users",
        "CreateUser",
        "bad_args",
        "CreateUser",
        "RevokeUser",
        "not_found",
        "refused",
        "forbidden",
    ]


def test_the_admin_fields_and_the_close_code_are_documented() -> None:
    text = section("6.9 users, create_user, revoke_user (admin)")
    listed = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert listed == list(UserEntry.__struct_fields__)
    assert f"1–{USER_NAME_MAX} characters" in text
    from dispatch.hub import CREDENTIALS_CHANGED

    close = section("6.9 users, create_user, revoke_user (admin)")
    assert f"**{int(CloseCode.CREDENTIALS_CHANGED)}** (`{CREDENTIALS_CHANGED}`" in close
    codes = DOC.read_text(encoding="utf-8").split("\n## 12. Close codes\n", 1)[1]
    row = f"| {int(CloseCode.CREDENTIALS_CHANGED)} | credentials changed |"
    assert row in codes and f"`{CREDENTIALS_CHANGED}`" in codes
    assert CloseCode.CREDENTIALS_CHANGED not in RESUMABLE_CLOSE_CODES


def test_every_close_code_is_in_the_table_and_the_limits_codes_say_why() -> None:
    """§12 has a row for every close code the server uses; the connection caps' codes are
    in §3's refusals with their reasons word for word, and the resumable set is the code's."""
    from dispatch.hub import SERVER_FULL, TOO_MANY_CONNECTIONS
    from dispatch.limits import Limits

    text = DOC.read_text(encoding="utf-8")
    table = text.split("\n## 12. Close codes\n", 1)[1].split("\n## 13.", 1)[0]
    rows = {int(code) for code in re.findall(r"^\| (\d{4}) \|", table, re.M)}
    assert {int(c) for c in CloseCode} <= rows
    handshake = text.split("\n## 3. Handshake\n", 1)[1].split("\n### 3.1", 1)[0]
    limits = Limits()
    for code, reason, count in (
        (CloseCode.TOO_MANY_CONNECTIONS, TOO_MANY_CONNECTIONS, limits.connections_per_user),
        (CloseCode.SERVER_FULL, SERVER_FULL, limits.connections),
    ):
        row = rf"\|[^|\n]* {count} [^|\n]*\| \*\*{int(code)}\*\* \| `{reason}` \|"
        assert re.search(row, handshake), (code, reason)
        assert f"| {int(code)} |" in table and f"`{reason}`" in table
    shown = re.search(r"RESUMABLE_CLOSE_CODES = \{([\d, \n]+)\}", table)
    assert shown is not None
    assert {int(c) for c in shown.group(1).replace("\n", " ").split(",")} == {
        int(c) for c in RESUMABLE_CLOSE_CODES
    }
