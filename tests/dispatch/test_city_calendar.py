"""A district's own working days: an overlay on the national calendar (meta
`calendar:<district>:<year>`, `load-calendar --district`), read for that district's cases."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from dispatch.app import (
    calendar_overlays,
    load_reference,
    loaded_calendar_years,
    prepare,
)
from dispatch.domain.calendar import CST, default_calendar, parse_year, with_overlays
from dispatch.state import SYSTEM, State
from dispatch.store.store import Store
from protocol import commands as c
from protocol.entities import CategoryLimit
from tests.dispatch.conftest import LINGHU, point_in
from tests.dispatch.test_city import BINJIANG, DAGUAN, YINGJIANG

# 迎江区's own days of 2026: Wednesday 25 November off (a local holiday), Saturday 28
# November worked (a flood-season rota).
OWN = {
    "year": 2026,
    "festivals": [
        {
            "name": "迎江区防汛调休",
            "from": "2026-11-25",
            "to": "2026-11-25",
            "makeup": ["2026-11-28"],
        }
    ],
}
TUESDAY_4PM = datetime(2026, 11, 24, 16, 0, tzinfo=CST).timestamp()
FOUR_HOURS = CategoryLimit(amount=4, unit="hour")


def test_an_overlay_wins_over_the_national_days() -> None:
    national = default_calendar()
    own = with_overlays(national, [parse_year(OWN, "own", loaded=True)])
    assert national.is_working_day(date(2026, 11, 25)) and not own.is_working_day(
        date(2026, 11, 25)
    )
    assert not national.is_working_day(date(2026, 11, 28)) and own.is_working_day(
        date(2026, 11, 28)
    )
    # National holidays stay (国庆), and a district may work one of its weekend days.
    assert not own.is_working_day(date(2026, 10, 1))
    national_day_off = parse_year(
        {
            "year": 2026,
            "festivals": [
                {"name": "值守", "from": "2026-11-26", "to": "2026-11-26", "makeup": ["2026-10-03"]}
            ],
        },
        "rota",
        loaded=True,
    )
    assert with_overlays(national, [national_day_off]).is_working_day(date(2026, 10, 3))
    assert own.official_years == national.official_years


def test_the_command_line_loads_a_districts_own_days(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from dispatch.cli import main

    url = f"sqlite:///{tmp_path / 'cal.db'}"
    store = Store(url)
    prepare(store, codes=(DAGUAN, YINGJIANG))
    path = tmp_path / "迎江2026.json"
    path.write_text(json.dumps(OWN, ensure_ascii=False), "utf-8")

    assert main(["--url", url, "load-calendar", str(path), "--district", "340811"]) == 2
    assert (
        "the database holds no district '340811': it holds 340802, 340803"
        in capsys.readouterr().err
    )
    assert main(["--url", url, "load-calendar", str(path), "--district", YINGJIANG]) == 0
    out = capsys.readouterr().out
    assert "1 days off, 1 make-up working days as 340802's own days on the national calendar" in out
    assert main(["--url", url, "load-calendar", str(path), "--district", YINGJIANG]) == 0
    assert "replaces its days loaded before" in capsys.readouterr().out
    assert store.meta("calendar:340802:2026") is not None
    assert loaded_calendar_years(store) == []  # the national calendar is untouched
    assert [y.year for y in calendar_overlays(store)[YINGJIANG]] == [2026]
    assert main(["--url", url, "calendar"]) == 0
    assert "2026  340802's own days: 1 days off, 1 extra working days (迎江区防汛调休)" in (
        capsys.readouterr().out
    )
    # A bad file is refused as a national year is, line by line; nothing is stored.
    bad = {
        "year": 2026,
        "festivals": [
            {"name": "x", "from": "2026-11-30", "to": "2026-11-30", "makeup": ["2026-11-27"]}
        ],
    }
    path.write_text(json.dumps(bad), "utf-8")
    assert main(["--url", url, "load-calendar", str(path), "--district", YINGJIANG]) == 2
    err = capsys.readouterr().err
    assert "make-up day 2026-11-27 is a Friday" in err and "nothing stored" in err

    # 迎江区's cases count its own days; 大观区's the national ones.
    reference = load_reference(store)
    assert set(reference.calendars) == {YINGJIANG}
    ours = reference.deadline(TUESDAY_4PM, FOUR_HOURS, "working", LINGHU)
    theirs = reference.deadline(TUESDAY_4PM, FOUR_HOURS, "working", BINJIANG)
    assert ours == datetime(2026, 11, 25, 11, 0, tzinfo=CST).timestamp()
    assert theirs == datetime(2026, 11, 26, 11, 0, tzinfo=CST).timestamp()  # the 25th off
    assert (
        reference.deadline(TUESDAY_4PM, FOUR_HOURS, "natural", BINJIANG) == TUESDAY_4PM + 4 * 3600
    )
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=CST).timestamp()
    saturday = datetime(2026, 11, 28, 16, 0, tzinfo=CST).timestamp()
    assert reference.elapsed(friday, saturday, "working", BINJIANG) == 7 * 3600  # worked
    assert reference.elapsed(friday, saturday, "working", LINGHU) == 1.5 * 3600

    # A report takes its district's calendar: the same category, the same moment.
    state = State(reference)
    cases = []
    for street in (LINGHU, BINJIANG):
        lon, lat = point_in(reference, street)
        args = c.Report(category="01-02", title="t", lon=lon, lat=lat)
        cases.append(
            state.events[int(state.apply(SYSTEM, "report", args, TUESDAY_4PM).data["event"])]
        )
    accept = reference.category(LINGHU, "01-02").limits["accept"]  # type: ignore[union-attr]
    assert cases[0].deadline == reference.deadline(TUESDAY_4PM, accept, "working", LINGHU)
    assert cases[1].deadline == reference.deadline(TUESDAY_4PM, accept, "working", BINJIANG)
    assert cases[0].due_at is not None and cases[1].due_at is not None
    assert cases[1].due_at > cases[0].due_at  # its closure deadline runs over its day off
    store.close()
