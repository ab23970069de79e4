"""The comparison itself: what it lets through and what it does not. A document frame the
server would not send as shown must fail, here on made-up frames and, at the end, on the
real document with stale examples put back in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.protocol.doc import session
from tests.protocol.doc.extract import DOC, parse, pseudo_json
from tests.protocol.doc.live import Report
from tests.protocol.doc.match import Env, match, prefix_problems
from tests.protocol.doc.world import start_world


def test_elisions_read_as_json() -> None:
    shown = pseudo_json('{"a": …, "b": [1, …], "c": {…}, "d": {"e": 1, …}, "f": {…} | null}')
    assert shown == {"a": "…", "b": [1, "…"], "c": {"…": "…"}, "d": {"e": 1, "…": "…"}, "f": "…"}
    assert pseudo_json('{"t": "… kept … in strings"}') == {"t": "… kept … in strings"}


def test_same_keys_same_values() -> None:
    sent = {"type": "error", "id": 3, "code": "bad_id", "message": "m"}
    assert match(dict(sent), sent, Env()) == []
    assert match({**sent, "command_id": "x"}, sent, Env()), "a key the server does not send"
    assert match({k: v for k, v in sent.items() if k != "message"}, sent, Env()), "one it does"
    assert match({**sent, "message": "other"}, sent, Env())
    assert match({**sent, "id": 3.0}, sent, Env()), "4 is not 4.0"
    assert match({"type": "error", "…": "unchanged fields"}, sent, Env()) == []
    assert match({"type": "error", "x": 1, "…": "unchanged fields"}, sent, Env())


def test_varying_values_are_bound_one_to_one_and_in_order() -> None:
    env = Env()
    assert match({"seq": 1625, "at": 1795316025.2}, {"seq": 7, "at": 1800000000.5}, env) == []
    assert match({"head": 1625}, {"head": 7}, env) == []  # the same document value, the same
    assert match({"seq": 1625}, {"seq": 8}, env), "one document seq, two server seqs"
    assert match({"seq": 1626}, {"seq": 7}, env), "two document seqs, one server seq"
    assert match({"seq": 1600}, {"seq": 9}, env) == []
    assert env.order_problems(), "1600 < 1625 in the document, 9 > 7 on the server"
    assert match({"epoch": "0e8c"}, {"epoch": "ffff"}, Env()) == []
    assert match({"token": "<token>"}, {"token": ""}, Env())


def test_elided_lists_and_counts() -> None:
    sent = {"streets": [{"code": "1"}, {"code": "2"}, {"code": "3"}]}
    assert match({"streets": [{"code": "2"}, "… 3 streets in all"]}, sent, Env()) == []
    assert match({"streets": [{"code": "2"}, "… 4 streets in all"]}, sent, Env())
    assert match({"streets": [{"code": "9"}, "…"]}, sent, Env())
    assert match({"streets": [{"code": "2"}]}, sent, Env()), "no elision: every item"
    scopes = {"district": {}, "1": {}, "2": {}}
    assert match({"district": {}, "…": "2 more scopes"}, scopes, Env()) == []
    assert match({"district": {}, "…": "3 more scopes"}, scopes, Env())


def test_kpi_figures_are_compared_by_type_only() -> None:
    sent = {"scopes": {"district": {"received": 3, "on_time_rate": 0.5}}}
    assert (
        match({"scopes": {"district": {"received": 290, "on_time_rate": 1.0}}}, sent, Env()) == []
    )
    assert match({"scopes": {"district": {"received": 290, "on_time_rate": 1}}}, sent, Env())
    assert match({"scopes": {"district": {"received": 290}}}, sent, Env()), "keys still count"


def test_cut_lines_are_prefixes_once_bound() -> None:
    env = Env()
    env.bind("seq", 1641, 12)
    env.bind("epoch", "0e8c", "abcd")
    assert (
        prefix_problems(
            '{"type":"snapshot","epoch":"0e8c","seq":1641,"events":[…',
            '{"type":"snapshot","epoch":"abcd","seq":12,"events":[{}]}',
            env,
        )
        == []
    )
    assert prefix_problems(
        '{"type":"snapshot","epoch":"0e8c","seq":1641,"reason":"reset"…',
        '{"type":"snapshot","epoch":"abcd","seq":12,"reason":"initial"}',
        env,
    )
    assert prefix_problems('{"seq":1642…', '{"seq":13}', env), "a seq bound nowhere"


STALE = [
    # The instruct example as it was: a duty delta the server no longer sends.
    (
        "The same command twice at once",
        '< {"type": "result", "id": 10, "command_id": "8678',
        '< {"type": "delta", "seq": 1626, "action": "instruct", "actor": "demo-commander", '
        '"at": 1795316025.2183728, "data": {"kind": "duty", …}}\n'
        '< {"type": "result", "id": 10, "command_id": "8678',
    ),
    # A default value shown: the server leaves it out.
    ("4.2 delta", '"status": "accepted",', '"status": "accepted", "overdue": false,'),
    # Another error message than the server's.
    ("A step the workflow refuses", '(needs verified)",', '(needs handled)",'),
    # The wrong resume mode.
    (
        "Resume that cannot be replayed → reset",
        '"head": 1631, "resume": "reset",',
        '"head": 1631, "resume": "replay",',
    ),
]


def test_the_document_with_stale_examples_fails(tmp_path: Path) -> None:
    """The real document with some examples put back as they were (or made wrong): the
    run reports each of those sections, and only those."""
    text = DOC.read_text(encoding="utf-8")
    for _, old, new in STALE:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    doc = parse(text)
    report = Report()

    async def run() -> None:
        world = await start_world(f"sqlite:///{tmp_path / 'w.db'}")
        try:
            await session.run(doc, world, report)
        finally:
            await world.server.stop()

    asyncio.run(run())
    failing = {title for title, problems in report.problems.items() if problems}
    assert failing == {title for title, _, _ in STALE}, {t: report.problems[t] for t in failing}


@pytest.mark.parametrize(
    "title", ["3. Handshake", "6.9 users, create_user, update_user, revoke_user (admin)"]
)
def test_tables_are_read_with_their_rows(title: str) -> None:
    rows = parse(DOC.read_text(encoding="utf-8")).table(title)
    assert rows and all(len(row) == len(rows[0]) for row in rows)
