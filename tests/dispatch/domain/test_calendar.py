"""The working calendar: holidays, make-up days, working-hour and working-day arithmetic."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.calendar import (
    CST,
    CalendarError,
    WorkingCalendar,
    calendar_in_force,
    default_calendar,
    parse_year,
    shipped_years,
)
from protocol.entities import CalendarStatus

CAL = default_calendar()


def cst(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CST)


# --- holidays and make-up days --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 1, 1), False),  # 元旦
        (date(2025, 1, 26), True),  # Sunday, make-up for 春节
        (date(2025, 1, 28), False),  # 除夕
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
        (date(2025, 2, 8), True),  # Saturday, make-up
        (date(2025, 4, 27), True),  # Sunday, make-up for 劳动节
        (date(2025, 5, 5), False),
        (date(2025, 6, 2), False),  # 端午
        (date(2025, 9, 28), True),  # Sunday, make-up for 国庆
        (date(2025, 10, 8), False),  # 国庆 + 中秋: 8 days
        (date(2025, 10, 11), True),  # Saturday, make-up
        (date(2026, 1, 2), False),  # 元旦 2026: Jan 1-3
        (date(2026, 1, 4), True),  # Sunday, make-up
        (date(2026, 2, 14), True),  # Saturday, make-up before 春节
        (date(2026, 2, 16), False),  # a Monday inside 春节 Feb 15-23
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up after 春节
        (date(2026, 4, 6), False),  # 清明 (Monday)
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),  # Saturday, make-up for 劳动节
        (date(2026, 6, 19), False),  # 端午 (Friday)
        (date(2026, 9, 20), True),  # Sunday, make-up for 国庆
        (date(2026, 9, 25), False),  # 中秋 (Friday)
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up
        (date(2026, 11, 21), False),  # plain Saturday
        (date(2026, 11, 22), False),  # plain Sunday
        (date(2026, 11, 23), True),  # plain Monday
    ],
)
def test_working_days(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_estimated_year_is_optional() -> None:
    official = default_calendar(include_estimated=False)
    assert not CAL.is_working_day(date(2027, 2, 8))  # estimated 春节 2027
    assert official.is_working_day(date(2027, 2, 8))  # a plain Monday without the estimate
    assert not official.is_working_day(date(2026, 2, 16))


def test_a_day_cannot_be_both_holiday_and_makeup() -> None:
    d = date(2026, 1, 1)
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(frozenset({d}), frozenset({d}))


# --- which years are known, which are guessed -----------------------------------------------


def test_shipped_years_and_their_status() -> None:
    assert [(y.year, y.status) for y in shipped_years()] == [
        (2025, "official"),
        (2026, "official"),
        (2027, "estimated"),
    ]
    assert CAL.official_years == {2025, 2026}
    assert CAL.estimated_years == {2027}


@pytest.mark.parametrize(
    ("day", "guess"),
    [
        (date(2024, 12, 31), True),  # before the data: weekends only
        (date(2025, 1, 1), False),
        (date(2026, 2, 16), False),
        (date(2026, 12, 31), False),
        (date(2027, 1, 1), True),  # estimated
        (date(2027, 2, 8), True),
        (date(2028, 1, 26), True),  # no data at all
    ],
)
def test_is_guess(day: date, guess: bool) -> None:
    assert CAL.is_guess(day) is guess


def test_a_missing_year_is_weekends_only_and_a_guess() -> None:
    # 春节 2028 begins on Wednesday 26 January; without a notice it is an ordinary week.
    assert all(CAL.is_working_day(date(2028, 1, d)) for d in (24, 25, 26, 27, 28))
    assert not CAL.is_working_day(date(2028, 1, 29))  # Saturday
    assert CAL.add_working_days(cst(2028, 1, 25, 10), 1) == cst(2028, 1, 26, 17, 30)
    assert CAL.is_guess(date(2028, 1, 26))


def test_an_estimated_year_has_holidays_but_is_a_guess() -> None:
    assert not CAL.is_working_day(date(2027, 2, 8))  # estimated 春节
    assert CAL.is_working_day(date(2027, 2, 20))  # estimated make-up Saturday
    assert CAL.is_guess(date(2027, 2, 8))


def test_any_guess_spans_years() -> None:
    assert not CAL.any_guess(date(2025, 3, 1), date(2026, 12, 31))
    assert CAL.any_guess(date(2026, 12, 30), date(2027, 1, 4))
    assert CAL.any_guess(date(2027, 1, 4), date(2026, 12, 30))  # either order
    assert CAL.any_guess(date(2024, 12, 30), date(2025, 1, 2))


@pytest.mark.parametrize(
    ("today", "missing"),
    [
        (date(2025, 6, 1), []),
        (date(2026, 6, 1), [2027]),  # next year only estimated
        (date(2027, 6, 1), [2027, 2028]),
        (date(2030, 1, 1), [2030, 2031]),
    ],
)
def test_status(today: date, missing: list[int]) -> None:
    assert CAL.status(today) == CalendarStatus(
        official=[2025, 2026], estimated=[2027], missing=missing
    )


def test_official_only_calendar_has_no_estimated_years() -> None:
    official = default_calendar(include_estimated=False)
    assert official.status(date(2026, 6, 1)) == CalendarStatus(
        official=[2025, 2026], estimated=[], missing=[2027]
    )


NOTICE_2027 = {
    "year": 2027,
    "festivals": [
        {"name": "元旦", "from": "2027-01-01", "to": "2027-01-03", "makeup": []},
        {"name": "春节", "from": "2027-02-06", "to": "2027-02-14", "makeup": ["2027-02-20"]},
    ],
}


def test_a_loaded_year_replaces_the_estimate_and_is_official() -> None:
    loaded = parse_year(NOTICE_2027, "2027.json", loaded=True)
    assert loaded.status == "official" and loaded.festivals == ("元旦", "春节")
    cal = calendar_in_force([loaded])
    assert cal.official_years == {2025, 2026, 2027} and cal.estimated_years == frozenset()
    assert not cal.is_guess(date(2027, 2, 8))
    assert cal.status(date(2026, 12, 1)).missing == []
    assert cal.is_working_day(date(2027, 2, 5))  # the estimate's first day off is gone
    assert CAL.is_working_day(date(2027, 1, 31))  # the estimate's make-up Sunday...
    assert not cal.is_working_day(date(2027, 1, 31))  # ...is a plain Sunday again
    assert not cal.is_working_day(date(2027, 2, 14))
    assert not cal.is_working_day(date(2026, 2, 16))  # the shipped years stay
    assert cal.add_working_days(cst(2027, 2, 5, 10), 1) == cst(2027, 2, 15, 17, 30)


def test_a_new_year_range_may_begin_in_the_december_before() -> None:
    # The 2023 notice: 元旦 "2022年12月31日至2023年1月2日放假调休".
    raw = {"year": 2023, "festivals": [{"name": "元旦", "from": "2022-12-31", "to": "2023-01-02"}]}
    year = parse_year(raw, "2023.json", loaded=True)
    assert date(2022, 12, 31) in year.holidays and year.makeup_days == frozenset()


def _festival(**fields: object) -> dict[str, object]:
    return {"name": "春节", "from": "2027-02-06", "to": "2027-02-14", "makeup": [], **fields}


@pytest.mark.parametrize(
    ("raw", "problems"),
    [
        ([2027], ["2027.json: expected a JSON object for one year"]),
        ({"festivals": [_festival()]}, ["2027.json: missing field 'year'"]),
        ({"year": "2027", "festivals": [_festival()]}, ["'year' must be a year such as 2027"]),
        ({"year": True, "festivals": [_festival()]}, ["'year' must be a year such as 2027"]),
        ({"year": 2027}, ["2027.json: missing field 'festivals'"]),
        ({"year": 2027, "festivals": []}, ["'festivals' must be a non-empty list"]),
        (
            {"year": 2027, "status": "estimated", "festivals": [_festival()]},
            ["'status' of a loaded year can only be \"official\", got 'estimated'"],
        ),
        (
            {"year": 2027, "festival": [_festival()]},
            [
                "2027.json: unknown field 'festival' (expected year, status, festivals)",
                "2027.json: missing field 'festivals'",
            ],
        ),
        (
            {"year": 2027, "festivals": [_festival(days=3)]},
            ["2027.json: festival #1 春节: unknown field 'days' (expected name, from, to, makeup)"],
        ),
        (
            {"year": 2027, "festivals": [_festival(name="")]},
            ["2027.json: festival #1: 'name' must be a non-empty string, got ''"],
        ),
        (
            {"year": 2027, "festivals": [{"name": "春节", "from": "2027-02-06"}]},
            ["2027.json: festival #1 春节: missing field 'to'"],
        ),
        (
            {"year": 2027, "festivals": [_festival(to="2027-02-30")]},
            ["2027.json: festival #1 春节: 'to' '2027-02-30' is not a real date"],
        ),
        (
            {"year": 2027, "festivals": [_festival(**{"from": "6 Feb 2027"})]},
            ["2027.json: festival #1 春节: 'from' '6 Feb 2027' is not a date written YYYY-MM-DD"],
        ),
        (
            {"year": 2027, "festivals": [_festival(to="2027-02-01")]},
            [
                "2027.json: festival #1 春节: "
                "the range 2027-02-06 to 2027-02-01 ends before it starts"
            ],
        ),
        (
            {"year": 2027, "festivals": [_festival(to="2027-03-06")]},
            ["the range 2027-02-06 to 2027-03-06 is 29 days long (no holiday is longer than 14)"],
        ),
        (
            {"year": 2027, "festivals": [_festival(**{"from": "2026-02-06", "to": "2026-02-14"})]},
            ["2027.json: festival #1 春节: the range 2026-02-06 to 2026-02-14 is not in 2027"],
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2026-02-21"])]},
            ["2027.json: festival #1 春节: make-up day 2026-02-21 is not in 2027"],
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2027-02-17"])]},
            [
                "2027.json: festival #1 春节: make-up day 2027-02-17 is a Wednesday: "
                "make-up working days (调休上班) are Saturdays or Sundays"
            ],
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup="2027-02-20")]},
            ["2027.json: festival #1 春节: 'makeup' must be a list of dates"],
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2027-02-20", "2027-02-20"])]},
            [
                "2027.json: festival #1 春节: make-up day 2027-02-20 twice: "
                "already a make-up day of festival #1 春节"
            ],
        ),
        (
            {"year": 2027, "festivals": [_festival(makeup=["2027-02-13"])]},
            [
                "2027.json: festival #1 春节: "
                "make-up day 2027-02-13 twice: already a holiday of festival #1 春节"
            ],
        ),
        (
            {
                "year": 2027,
                "festivals": [
                    _festival(),
                    {"name": "元宵", "from": "2027-02-14", "to": "2027-02-14", "makeup": []},
                ],
            },
            [
                "2027.json: festival #2 元宵: "
                "holiday 2027-02-14 twice: already a holiday of festival #1 春节"
            ],
        ),
    ],
)
def test_a_bad_year_is_refused_with_every_problem_named(raw: object, problems: list[str]) -> None:
    with pytest.raises(CalendarError) as info:
        parse_year(raw, "2027.json", loaded=True)
    assert len(info.value.problems) == len(problems), info.value.problems
    for found, expected in zip(info.value.problems, problems, strict=True):
        assert expected in found


def test_shipped_data_must_say_its_status() -> None:
    with pytest.raises(CalendarError, match='\'status\' must be "official" or "estimated"'):
        parse_year({"year": 2027, "festivals": [_festival()]}, "cn_holidays.json")


def test_is_working_time() -> None:
    assert CAL.is_working_time(cst(2026, 11, 23, 8, 30))
    assert not CAL.is_working_time(cst(2026, 11, 23, 12, 30))
    assert not CAL.is_working_time(cst(2026, 11, 23, 17, 30))
    assert not CAL.is_working_time(cst(2026, 11, 22, 10, 0))


# --- add_working_hours ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (cst(2026, 11, 23, 9, 0), 2, cst(2026, 11, 23, 11, 0)),
        (cst(2026, 11, 23, 11, 0), 2, cst(2026, 11, 23, 15, 0)),  # across lunch
        (cst(2026, 11, 23, 8, 30), 3.5, cst(2026, 11, 23, 12, 0)),  # ends at 12:00, not 14:00
        (cst(2026, 11, 23, 8, 30), 7, cst(2026, 11, 23, 17, 30)),  # a whole day ends 17:30
        (cst(2026, 11, 23, 12, 30), 0.5, cst(2026, 11, 23, 14, 30)),  # starts in lunch
        (cst(2026, 11, 23, 17, 0), 1, cst(2026, 11, 24, 9, 0)),  # overnight
        (cst(2026, 11, 23, 20, 0), 1, cst(2026, 11, 24, 9, 30)),  # reported at night
        (cst(2026, 11, 24, 3, 0), 4, cst(2026, 11, 24, 14, 30)),  # before office hours
        (cst(2026, 11, 20, 16, 30), 2, cst(2026, 11, 23, 9, 30)),  # over the weekend
        (cst(2026, 11, 21, 10, 0), 4, cst(2026, 11, 23, 14, 30)),  # reported on Saturday
        (cst(2026, 11, 23, 9, 15), 14, cst(2026, 11, 25, 9, 15)),  # two whole days
        # Spring Festival 2026: Fri 13th, make-up Sat 14th, holiday 15th-23rd.
        (cst(2026, 2, 13, 16, 0), 4, cst(2026, 2, 14, 11, 0)),
        (cst(2026, 2, 13, 16, 0), 10, cst(2026, 2, 24, 10, 0)),
        (cst(2026, 2, 16, 10, 0), 1, cst(2026, 2, 24, 9, 30)),
        # National Day 2026: Oct 1-7 off, Oct 8 (Thu) works.
        (cst(2026, 9, 30, 17, 0), 1, cst(2026, 10, 8, 9, 0)),
    ],
)
def test_add_working_hours(start: datetime, hours: float, expected: datetime) -> None:
    result = CAL.add_working_hours(start, hours)
    assert result == expected
    assert result.utcoffset() == timedelta(hours=8)


def test_add_working_hours_converts_time_zones() -> None:
    start = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30 CST
    result = CAL.add_working_hours(start, 1)
    assert result.tzinfo == CST
    assert (result.hour, result.minute) == (9, 30)


def test_add_zero_hours_returns_start() -> None:
    start = cst(2026, 11, 22, 23, 0)
    assert CAL.add_working_hours(start, 0) == start


def test_add_working_hours_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_hours(datetime(2026, 11, 23, 9, 0), 1)  # naive
    with pytest.raises(ValueError):
        CAL.add_working_hours(cst(2026, 11, 23, 9, 0), -1)
    with pytest.raises(ValueError):
        CAL.add_working_hours(cst(2026, 11, 23, 9, 0), float("nan"))


def test_add_working_hours_is_fast() -> None:
    import timeit

    start = cst(2026, 2, 13, 16, 0)
    per_call = timeit.timeit(lambda: CAL.add_working_hours(start, 60), number=2000) / 2000
    assert per_call < 200e-6  # microseconds, not a minute-by-minute walk


# --- add_working_days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (cst(2026, 11, 23, 10, 0), 1, cst(2026, 11, 24, 17, 30)),  # started day not counted
        (cst(2026, 11, 23, 8, 0), 1, cst(2026, 11, 23, 17, 30)),  # before 08:30: day counts
        (cst(2026, 11, 23, 8, 30), 1, cst(2026, 11, 23, 17, 30)),
        (cst(2026, 11, 23, 8, 31), 1, cst(2026, 11, 24, 17, 30)),
        (cst(2026, 11, 20, 18, 0), 1, cst(2026, 11, 23, 17, 30)),  # Friday evening
        (cst(2026, 11, 21, 9, 0), 1, cst(2026, 11, 23, 17, 30)),  # Saturday
        (cst(2026, 11, 23, 10, 0), 5, cst(2026, 11, 30, 17, 30)),
        (cst(2026, 9, 30, 10, 0), 1, cst(2026, 10, 8, 17, 30)),  # over National Day
        (cst(2026, 2, 13, 10, 0), 1, cst(2026, 2, 14, 17, 30)),  # the make-up Saturday
        (cst(2026, 2, 13, 10, 0), 2, cst(2026, 2, 24, 17, 30)),
        # 20 working days for illegal construction, registered on 2026-09-10 (Thu):
        # Sep 11-30 has 14 working days (with make-up Sun 20th), Oct 8-9, 10 (Sat), 12-14.
        (cst(2026, 9, 10, 15, 0), 20, cst(2026, 10, 14, 17, 30)),
        (cst(2026, 11, 23, 10, 0), 0, cst(2026, 11, 23, 10, 0)),
    ],
)
def test_add_working_days(start: datetime, days: int, expected: datetime) -> None:
    assert CAL.add_working_days(start, days) == expected


def test_add_working_days_rejects_negative() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_days(cst(2026, 11, 23, 10, 0), -1)


# --- working_seconds_between ----------------------------------------------------------------


def test_working_seconds_between() -> None:
    assert CAL.working_seconds_between(cst(2026, 11, 20, 17, 0), cst(2026, 11, 23, 9, 0)) == 3600
    assert CAL.working_seconds_between(cst(2026, 11, 23, 9, 0), cst(2026, 11, 20, 17, 0)) == -3600
    assert CAL.working_seconds_between(cst(2026, 11, 23, 0, 0), cst(2026, 11, 24, 0, 0)) == 25200
    # The whole Spring Festival holiday is no working time at all.
    assert CAL.working_seconds_between(cst(2026, 2, 15), cst(2026, 2, 24)) == 0
    # A week of working days, one of which is a make-up Saturday.
    week = CAL.working_seconds_between(cst(2026, 2, 9), cst(2026, 2, 15))
    assert week == 6 * 7 * 3600


# --- against a plain day-by-day reference ---------------------------------------------------

_PERIODS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))


def _reference_add(start: datetime, hours: float) -> datetime:
    """Walk office periods one by one: slow but obviously right."""
    local = start.astimezone(CST)
    left = timedelta(hours=hours)
    day = local.date()
    while True:
        if CAL.is_working_day(day):
            for a, b in _PERIODS:
                lo = max(datetime.combine(day, a, CST), local)
                hi = datetime.combine(day, b, CST)
                if hi <= lo:
                    continue
                if hi - lo >= left:
                    return lo + left
                left -= hi - lo
        day += timedelta(days=1)


moments = st.datetimes(
    min_value=datetime(2024, 12, 1),
    max_value=datetime(2027, 11, 30),
    timezones=st.sampled_from([CST, UTC, timezone(timedelta(hours=-5))]),
)


@settings(max_examples=300, deadline=None)
@given(start=moments, quarter_hours=st.integers(min_value=1, max_value=700))
def test_add_working_hours_matches_reference(start: datetime, quarter_hours: int) -> None:
    hours = quarter_hours / 4
    assert CAL.add_working_hours(start, hours) == _reference_add(start, hours)


@settings(max_examples=300, deadline=None)
@given(start=moments, hours=st.floats(min_value=0, max_value=400, allow_nan=False))
def test_working_seconds_between_inverts_add_working_hours(start: datetime, hours: float) -> None:
    end = CAL.add_working_hours(start, hours)
    assert end >= start
    assert CAL.working_seconds_between(start, end) == pytest.approx(hours * 3600, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(a=moments, b=moments)
def test_working_seconds_between_is_antisymmetric_and_bounded(a: datetime, b: datetime) -> None:
    forward = CAL.working_seconds_between(a, b)
    assert forward == -CAL.working_seconds_between(b, a)
    assert abs(forward) <= abs((b - a).total_seconds())
