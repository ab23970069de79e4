"""docs/protocol.md's tables against the code: the message and entity fields against the
structs of protocol/, the error and close codes against protocol/codes.py (every code
documented, every documented code real, the resumable set the same everywhere), and the
limits against dispatch/limits.py."""

from __future__ import annotations

import re
from typing import get_args

import msgspec
import pytest

from dispatch.hub import CREDENTIALS_CHANGED, TOO_SLOW
from dispatch.limits import Limits
from protocol import entities, messages
from protocol.codes import RESUMABLE_CLOSE_CODES, CloseCode, ErrorCode
from tests.protocol.doc.extract import document

# (section title, index of the table in it, struct): tables whose first column names fields.
FIELD_TABLES = [
    ("3. Handshake", 0, messages.Hello),
    ("3. Handshake", 2, messages.Welcome),
    ("3.1 units", 0, messages.Units),
    ("4.1 snapshot", 0, messages.Snapshot),
    ("4.2 delta", 0, messages.Delta),
    ("6.1 The command message", 0, messages.Command),
    ("6.1 The command message", 1, messages.Result),
    ("6.8 history", 0, messages.HistoryEntry),
    ("6.9 users, create_user, update_user, revoke_user (admin)", 0, messages.UserEntry),
    ("6.10 roster, set_roster (the duty roster)", 0, entities.DutyPlan),
    ("Event", 0, entities.Event),
    ("Alert", 0, entities.Alert),
    ("Duty", 0, entities.Duty),
    ("Person", 0, entities.Person),
    ("Decision", 0, entities.Decision),
    ("Extension", 0, entities.Extension),
    ("Hold", 0, entities.Hold),
    ("Assist", 0, entities.Assist),
    ("Kpi", 0, entities.Kpi),
    ("Reference", 0, entities.Reference),
    ("Reference", 1, entities.CalendarStatus),
]
# The units table of §10 Reference: each unit's fields, named in one cell.
UNIT_ROWS = {
    "Street": entities.Street,
    "Community": entities.Community,
    "Grid": entities.Grid,
    "Department": entities.Department,
    "Camera": entities.Camera,
    "Category": entities.Category,
    "CategoryLimit": entities.CategoryLimit,
}


def fields_of(struct: type[msgspec.Struct]) -> set[str]:
    """A struct's fields as the wire has them, its tag field (`type`, `kind`) included."""
    names = {f.encode_name for f in msgspec.structs.fields(struct)}
    tag = struct.__struct_config__.tag_field
    return names | ({tag} if tag else set())


@pytest.mark.parametrize(
    ("title", "index", "struct"),
    FIELD_TABLES,
    ids=[f"{t}:{s.__name__}" for t, _, s in FIELD_TABLES],
)
def test_the_fields_table_lists_the_struct(
    title: str, index: int, struct: type[msgspec.Struct]
) -> None:
    rows = document().table(title, index)
    listed = [name for row in rows for name in re.findall(r"`(\w+)`", row[0])]
    assert len(listed) == len(set(listed)), f"listed twice: {listed}"
    # A message's `type` is in its example; its table may leave it out.
    optional = {"type"} if struct.__struct_config__.tag_field == "type" else set()
    assert fields_of(struct) - optional <= set(listed) <= fields_of(struct), (
        f"undocumented: {sorted(fields_of(struct) - optional - set(listed))}; "
        f"not in {struct.__name__}: {sorted(set(listed) - fields_of(struct))}"
    )


def test_the_units_table_names_every_field() -> None:
    rows = {
        re.sub(r"\*\*(\w+)\*\*.*", r"\1", row[0]): row[1]
        for row in document().table("Reference", 2)
    }
    assert set(rows) == set(UNIT_ROWS)
    for unit, struct in UNIT_ROWS.items():
        named = set(re.findall(r"`(\w+)`", rows[unit]))
        assert fields_of(struct) <= named, f"{unit}: {sorted(fields_of(struct) - named)}"


def test_the_history_admin_and_table_limits_are_the_codes() -> None:
    assert f"newest {messages.HISTORY_LIMIT}" in document().section_text("6.8 history")
    admin = document().section_text("6.9 users, create_user, update_user, revoke_user (admin)")
    assert f"1–{messages.USER_NAME_MAX} characters" in admin
    roster = document().section_text("6.10 roster, set_roster (the duty roster)")
    assert f"at most **{messages.ROSTER_SPAN}** days" in roster
    assert f"at most {messages.ROSTER_AHEAD} days ahead" in roster
    assert f"at most {messages.ROSTER_PEOPLE_MAX} people" in roster
    assert f"at most {messages.TABLE_MAX_BYTES // 2**20} MiB" in document().text


def test_every_message_type_is_in_the_envelope_table() -> None:
    """§2's table: each type once, with its direction."""
    rows = {_code(row[0]): row[1] for row in document().table("2. Envelope and message types")}
    tags = {
        "client → server": {t.__struct_config__.tag for t in get_args(messages.ClientMessage)},
        "server → client": {t.__struct_config__.tag for t in get_args(messages.ServerMessage)},
    }
    assert {t: d for t, d in rows.items()} == {t: d for d, ts in tags.items() for t in ts}


def test_the_categories_message_is_described() -> None:
    text = document().section_text("3.2 categories")
    assert all(f"`{field}`" in text for field in messages.Categories.__struct_fields__)
    assert "hello.reference" in text


# ---- error and close codes ---------------------------------------------------------------


def test_the_error_table_is_every_error_code() -> None:
    listed = [_code(row[0]) for row in document().table("11. Error codes")]
    assert len(listed) == len(set(listed))
    assert set(listed) == {str(c) for c in ErrorCode}, "docs/protocol.md §11 vs protocol/codes.py"


def test_the_close_table_is_every_close_code() -> None:
    rows = {int(row[0]): row for row in document().table("12. Close codes")}
    sent = {int(c) for c in CloseCode}
    assert sent <= set(rows), f"undocumented close codes: {sorted(sent - set(rows))}"
    # The others a client sees without the server's code sending them: 1011 comes from the
    # websockets library's keepalive, the rest are not sent at all.
    for code in set(rows) - sent - {1011}:
        assert rows[code][2].startswith("not sent"), rows[code]
    for code in sent:
        assert not rows[code][2].startswith("not sent"), rows[code]
    resumable = {code for code, row in rows.items() if "**resumable**" in row[3]}
    assert resumable == set(RESUMABLE_CLOSE_CODES), "§12's resumable rows vs protocol/codes.py"


def test_the_close_reasons_shown_are_the_servers() -> None:
    close = document().section_text("12. Close codes")
    assert f"(`{TOO_SLOW}`)" in close
    assert f"(`{CREDENTIALS_CHANGED}`;" in close
    row = f"| {int(CloseCode.CREDENTIALS_CHANGED)} | credentials changed |"
    assert row in close
    admin = document().section_text("6.9 users, create_user, update_user, revoke_user (admin)")
    assert f"**{int(CloseCode.CREDENTIALS_CHANGED)}** (`{CREDENTIALS_CHANGED}`" in admin


def test_the_resumable_set_is_the_same_everywhere() -> None:
    doc = document()
    expected = {int(c) for c in RESUMABLE_CLOSE_CODES}
    listed = re.search(r"`RESUMABLE_CLOSE_CODES = \{([\d,\s]+)\}`", doc.text)
    assert listed is not None and _numbers(listed.group(1)) == expected
    when = re.search(r"after every close whose code is resumable \(§12: ([\d,\s]+)\)", doc.text)
    assert when is not None and _numbers(when.group(1)) == expected, "§5"


def test_the_checklist_says_what_to_do_after_every_close_code() -> None:
    """§15 item 6: the codes to stop at are not resumable, and every other code of the
    server's own that is not resumable tells the client to reconnect (§12)."""
    doc = document()
    stop = re.search(r"On close: ([\d/]+) → stop", doc.section_text("15. Client checklist"))
    assert stop is not None
    stops = {int(n) for n in stop.group(1).split("/")}
    assert stops <= {int(c) for c in CloseCode} - {int(c) for c in RESUMABLE_CLOSE_CODES}
    rows = {int(row[0]): row for row in doc.table("12. Close codes")}
    for code in CloseCode:
        if code >= 4000 and code not in RESUMABLE_CLOSE_CODES and code not in stops:
            action = rows[int(code)][3]
            assert "reconnect" in action and "not reconnect" not in action, rows[int(code)]


def test_the_limits_table_is_the_servers() -> None:
    limits = Limits()
    rows = {row[0]: row[1] for row in document().table("13. Limits and backpressure")}
    assert rows["handshake window"].startswith(f"{limits.hello_timeout:g} s")
    assert rows["client → server message"].startswith(f"≤ {limits.max_frame:,} bytes")
    burst = f"burst {limits.command_burst}, {limits.commands_per_second:g}/s"
    assert burst in rows["commands"]
    assert rows["unread data per client"].startswith(f"{limits.max_backlog // 2**20} MiB")
    assert rows["incoming queue"].startswith("64 messages")  # dispatch/server.py max_queue
    assert rows["keepalive"] == "websocket ping every 20 s, pong expected within 20 s"
    assert f"at most {limits.ring_size:,}" in rows["replay"]
    assert f"at most {limits.ring_bytes // 2**20} MiB of them" in rows["replay"]
    assert (
        f"at most one message per {'second' if limits.kpi_interval == 1 else limits.kpi_interval}"
        in rows["`kpis`"]
    )


def _code(cell: str) -> str:
    found = re.fullmatch(r"`(\w+)`", cell)
    assert found is not None, cell
    return found.group(1)


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\d+", text)}
