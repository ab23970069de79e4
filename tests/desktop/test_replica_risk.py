"""The replica's deadline risks (docs/protocol.md §4.4): full, partial and gone, as decoded
from the wire, and which case shows a badge (docs/kpis.md §8)."""

from __future__ import annotations

import json

import pytest

from desktop.core.replica import Changes, Replica
from protocol.codec import ProtocolError, decode_server
from protocol.messages import RISK_SHOWN_FROM
from tests.factories import make_event

NOW = 1_795_316_000.0


def frame(**fields: object) -> str:
    return json.dumps({"type": "risk", "at": NOW, "trained_at": NOW - 600, **fields})


def test_a_full_message_replaces_a_partial_one_updates_and_gone_drops() -> None:
    replica = Replica()
    why = "同类案件本街道近30天超期率 38%"
    first = replica.apply(
        decode_server(
            frame(
                full=True,
                cases={"1": {"p": 0.41, "why": why}, "2": {"p": 0.05, "why": why}},
                forecast={"340803004": 2.5},
            )
        )
    )
    assert first.risks == {1, 2} and first.forecast and bool(first)
    assert replica.risk[1].p == 0.41 and replica.forecast == {"340803004": 2.5}
    later = replica.apply(decode_server(frame(cases={"2": {"p": 0.3, "why": why}}, gone=[1])))
    assert later.risks == {1, 2} and not later.forecast
    assert set(replica.risk) == {2} and replica.risk[2].p == 0.3
    assert replica.forecast == {"340803004": 2.5}  # unchanged when none came
    again = replica.apply(decode_server(frame(full=True, cases={"3": {"p": 0.5, "why": why}})))
    assert again.risks == {2, 3} and set(replica.risk) == {3} and replica.forecast == {}
    merged = Changes()
    merged.merge(first)
    merged.merge(later)
    assert merged.risks == {1, 2} and merged.forecast


def test_the_badge_shows_on_open_cases_on_time_from_the_threshold() -> None:
    replica = Replica()
    why = "同类案件本街道近30天超期率 38%"
    cases = {
        "1": {"p": RISK_SHOWN_FROM, "why": why},
        "2": {"p": RISK_SHOWN_FROM - 0.001, "why": why},
        "3": {"p": 0.9, "why": why},
        "4": {"p": 0.9, "why": why},
        "5": {"p": 0.9, "why": why},
    }
    replica.apply(decode_server(frame(full=True, cases=cases)))
    on_time = make_event(1, status="handling", deadline=NOW + 3600, due_at=NOW + 7200)
    low = make_event(2, status="handling", deadline=NOW + 3600, due_at=NOW + 7200)
    late = make_event(3, status="handling", deadline=NOW - 60, due_at=NOW + 7200)
    closed = make_event(4, status="closed", deadline=None, due_at=NOW + 7200)
    flagged = make_event(5, status="handling", overdue=True, deadline=NOW + 60, due_at=NOW + 7200)
    assert replica.shown_risk(on_time, NOW) is not None
    for event in (low, late, closed, flagged):
        assert replica.shown_risk(event, NOW) is None, event.id


@pytest.mark.parametrize(
    "bad",
    [
        {"cases": {"1": {"p": 1.5, "why": "x"}}},
        {"cases": {"1": {"p": 0.5}}},
        {"cases": {"1": {"p": 0.5, "why": "x", "extra": 1}}},
        {"cases": {"x": {"p": 0.5, "why": "x"}}},
        {"unknown": 1},
    ],
)
def test_a_malformed_risk_message_is_refused_by_the_schema(bad: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        decode_server(frame(**bad))


def test_the_desk_shows_the_badge_with_its_reason_and_repaints_when_it_changes(qtbot) -> None:
    from PySide6.QtCore import Qt

    from desktop.core.todo import Me, TodoBook
    from desktop.ui.desk.todo_model import TodoModel
    from desktop.ui.models import RISK

    events = [
        make_event(1, title="垃圾堆放", deadline=NOW + 3600, due_at=NOW + 7200),
        make_event(2, title="井盖缺失", deadline=NOW + 3600, due_at=NOW + 7200),
    ]
    replica = Replica()
    replica.events = {e.id: e for e in events}
    book = TodoBook(Me("clerk", "street", ("340803004",)))
    book.reset(events, NOW)
    model = TodoModel(replica, book, lambda: NOW)
    model.set_view("accept")
    column = TodoModel.COLUMNS.index("risk")
    why = "同类案件本街道近30天超期率 38%；受理时限已用75%"
    changes = replica.apply(decode_server(frame(full=True, cases={"1": {"p": 0.41, "why": why}})))
    with qtbot.waitSignal(model.dataChanged):
        model.apply(changes.risks)
    rows = {model.id_at(r): r for r in range(model.rowCount())}
    badged = model.index(rows[1], column)
    assert model.data(badged) == "险41%"
    assert model.data(badged, Qt.ItemDataRole.ForegroundRole) == RISK
    assert model.data(badged, Qt.ItemDataRole.ToolTipRole) == why
    assert model.headerData(column, Qt.Orientation.Horizontal) == "风险"
    plain = model.index(rows[2], column)
    assert model.data(plain) == "" and model.data(plain, Qt.ItemDataRole.ToolTipRole) is None
