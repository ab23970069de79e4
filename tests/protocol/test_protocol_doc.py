"""docs/protocol.md against the codec: the history and admin sections' example frames and
fields, and the close code a changed user's connections get."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from protocol.codec import ProtocolError, convert, decode_client, decode_server
from protocol.codes import RESUMABLE_CLOSE_CODES, CloseCode, ErrorCode
from protocol.entities import DutyPlan
from protocol.messages import (
    HISTORY_LIMIT,
    ROSTER_AHEAD,
    ROSTER_PEOPLE_MAX,
    ROSTER_SPAN,
    TABLE_MAX_BYTES,
    USER_NAME_MAX,
    Categories,
    CreateUser,
    Error,
    History,
    HistoryEntry,
    LoadCategories,
    Result,
    RevokeUser,
    Roster,
    SetCategory,
    SetRoster,
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


ROSTER = "6.10 roster, set_roster (the duty roster)"
CATEGORIES = "6.11 set_category, load_categories (the category table)"


def test_the_roster_examples_are_what_the_codec_reads_and_the_server_checks() -> None:
    """Every request of §6.10 decodes as sent, and every answer is what the server's rules
    give for it on the examples' day (2026-11-25): its checks' own words, the codec's."""
    from datetime import date

    from dispatch.admin import Refused
    from dispatch.tables import check_plan

    today = date(2026, 11, 25)
    shown = frames(section(ROSTER))
    assert [d for d, _ in shown] == [">", "<"] * 9
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
        assert isinstance(message, (Roster, SetRoster))
        if isinstance(reply, Error):
            if reply.code == ErrorCode.FORBIDDEN:
                assert reply.message == "role commander may not set_roster"
            else:
                assert reply.code == ErrorCode.BAD_ARGS and isinstance(message, SetRoster)
                with pytest.raises(Refused) as refusal:
                    check_plan(message, today, "系统管理员", 0.0)
                assert refusal.value.message == reply.message
            kinds.append(reply.code)
            continue
        if isinstance(message, Roster):
            assert set(reply.data) == {"today", "days"} and reply.data["today"] == "2026-11-25"
            plans = [convert(d, DutyPlan) for d in reply.data["days"]]
            assert all(set(d) == set(DutyPlan.__struct_fields__) for d in reply.data["days"])
            assert all(message.first <= p.day <= message.last for p in plans)
        else:
            plan = check_plan(message, today, "系统管理员", 0.0)
            assert reply.data == {"day": message.day, "planned": plan is not None, "duty": False}
        kinds.append(type(message).__name__)
    assert kinds == [
        "Roster",
        "SetRoster",
        "Roster",
        "bad_args",
        "bad_args",
        "bad_args",
        "SetRoster",
        "refused",
        "forbidden",
    ]


def test_the_roster_fields_table_lists_the_struct() -> None:
    text = section(ROSTER)
    listed = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert listed == list(DutyPlan.__struct_fields__)
    assert f"at most **{ROSTER_SPAN}** days" in text
    assert (
        f"at most {ROSTER_AHEAD} days ahead" in text
        and f"at most {ROSTER_PEOPLE_MAX} people" in text
    )


def test_the_category_examples_are_what_the_codec_reads_and_the_table_checks() -> None:
    """Every request of §6.11 decodes as sent; a set_category's refusal is the table
    validation's own lines for that edit of the default table; answers have their shape."""
    from dispatch.app import apply_edit, category_units, table_document
    from dispatch.domain.categories import CAMERA_KINDS, CategoryTableError, default_table
    from dispatch.domain.district import DEPARTMENTS
    from dispatch.tables import EDIT_SOURCE
    from protocol.entities import Category

    categories = [
        msgspec.json.decode(doc, type=Category)
        for kind, _, _, _, doc in category_units(default_table())
        if kind == "category"
    ]
    doc = table_document(categories, list(CAMERA_KINDS))
    departments = {code for code, _, _ in DEPARTMENTS}
    shown = frames(section(CATEGORIES))
    assert [d for d, _ in shown] == [">", "<"] * 8
    kinds = []
    for (_, request), (_, answer) in zip(shown[::2], shown[1::2], strict=True):
        message = decode_client(json.dumps(request, ensure_ascii=False))
        reply = decode_server(json.dumps(answer, ensure_ascii=False))
        assert isinstance(reply, (Result, Error)) and reply.id == request["id"]
        assert isinstance(message, (SetCategory, LoadCategories))
        if isinstance(reply, Result):
            assert set(reply.data) == {"table", "added", "changed", "removed", "unmapped", "loaded"}
            assert reply.data["loaded"] is not (
                isinstance(message, LoadCategories) and message.check
            )
            if isinstance(message, SetCategory):
                apply_edit(doc, message, EDIT_SOURCE, departments)  # valid
            kinds.append("ok")
            continue
        assert reply.code == ErrorCode.BAD_ARGS
        if isinstance(message, SetCategory):
            with pytest.raises(CategoryTableError) as problems:
                apply_edit(doc, message, EDIT_SOURCE, departments)
            assert "\n".join(problems.value.problems) == reply.message
        else:
            assert reply.message.startswith(
                (f"{message.file}: ", "stored events use categories", "content is not")
            )
        kinds.append("bad_args")
    assert kinds == ["ok", "bad_args", "ok", "ok", "ok", "bad_args", "bad_args", "bad_args"]


def test_the_categories_message_is_documented() -> None:
    text = section("3.2 categories")
    assert all(f"`{field}`" in text for field in Categories.__struct_fields__)
    assert "hello.reference" in text
    everything = DOC.read_text(encoding="utf-8")
    for tag in ("roster", "set_roster", "set_category", "load_categories", "categories"):
        assert f"| `{tag}` |" in everything, tag
    assert f"at most {TABLE_MAX_BYTES // (1024 * 1024)} MiB" in everything
