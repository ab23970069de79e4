"""《民声快报》: the week's figures, hot topics, streets and repeats, as one safe HTML page."""

from __future__ import annotations

from datetime import date, datetime

from dispatch.cli import main
from dispatch.domain.calendar import CST
from dispatch.state import Change
from dispatch.weekly import gather, mask_caller, render, week_start
from tests.dispatch.conftest import prepared_store, reference_for
from tests.factories import make_event

MONDAY = datetime(2026, 11, 23, 0, 0, tzinfo=CST).timestamp()
HOUR = 3600.0
CALLER = "王先生 13812345678"


def cases():  # type: ignore[no-untyped-def]
    """Five cases this week (three of one matter, two of one caller), two the week before."""
    same = {"grid": "340803004001001", "category": "01-02"}
    return [
        make_event(1, reported_at=MONDAY + 9 * HOUR, **same),
        make_event(2, reported_at=MONDAY + 30 * HOUR, **same, reporter=CALLER),
        make_event(
            3,
            reported_at=MONDAY + 100 * HOUR,
            **same,
            reporter=CALLER,
            status="evaluated",
            closed_at=MONDAY + 101 * HOUR,
            evaluated_at=MONDAY + 102 * HOUR,
            evaluation=2,
        ),
        make_event(
            4,
            reported_at=MONDAY + 50 * HOUR,
            title="<script>alert(1)</script>",
            category="05-06",
            status="closed",
            closed_at=MONDAY + 60 * HOUR,
            due_at=MONDAY + 55 * HOUR,  # late
        ),
        make_event(5, reported_at=MONDAY + 150 * HOUR, source="patrol", category="05-06"),
        make_event(6, reported_at=MONDAY - 20 * HOUR),  # the week before
        make_event(7, reported_at=MONDAY - 40 * HOUR),
    ]


def test_the_week_against_the_week_before_with_its_repeats(tmp_path) -> None:
    store = prepared_store(f"sqlite:///{tmp_path / 'd.db'}")
    reference = reference_for(store)
    week = gather(cases(), reference, MONDAY, MONDAY + 8 * 86400)
    f = week.figures
    assert (f.received, f.closed, f.closed_on_time, f.evaluated, f.satisfied) == (5, 2, 1, 1, 0)
    assert week.before.received == 2 and f.by_source["hotline"] == 4
    rubbish = reference.categories["01-02"].name
    assert week.topics[0] == (rubbish, 3, 2)  # 3 this week, 2 the week before
    matter = week.same_matter[0]
    assert [e.id for e in matter.cases] == [1, 2, 3] and matter.what == rubbish
    assert [(r.who_or_where, len(r.cases)) for r in week.same_caller] == [("王先生 138****5678", 2)]
    page = render(week, "大观区", MONDAY + 8 * 86400)
    assert "<script" not in page and "&lt;script&gt;alert(1)" not in page  # no title is shown
    assert "13812345678" not in page and "138****5678" in page
    assert "2026年第48周" in page and "11月23日—11月29日" in page
    assert "default-src 'none'" in page  # no script, nothing loaded


def test_week_start_is_the_monday_of_china_standard_time() -> None:
    assert week_start(date(2026, 11, 29)) == MONDAY  # a Sunday
    assert week_start(date(2026, 11, 23)) == MONDAY
    assert mask_caller("13812345678 / 021-1234567") == "138****5678 / 021-1234567"


def test_the_command_writes_the_page_or_refuses(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    store.commit([Change("event", e.id, e.street, "report", "t", 0.0, None, e) for e in cases()])
    store.close()
    out = tmp_path / "week.html"
    assert main(["--url", url, "weekly-report", str(out), "--week", "2026-11-25"]) == 0
    assert "5 case(s)" in capsys.readouterr().out and "民声快报 · 大观区" in out.read_text()
    assert main(["--url", url, "weekly-report", str(out), "--week", "25/11"]) == 2
    assert "is not a date" in capsys.readouterr().err
