"""`dispatch export`: the cases of a period, any filter, to CSV and XLSX as a clerk opens them."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from dispatch.cli import main
from dispatch.domain.calendar import CST
from dispatch.exports import HEADERS
from dispatch.state import Change
from protocol.entities import Event
from tests.dispatch.conftest import prepared_store
from tests.factories import make_event

LINGHU, DEKUAN = "340803004", "340803001"
NOV_24 = datetime(2026, 11, 24, 9, 40, tzinfo=CST).timestamp()


def reported(store, event: Event) -> None:  # type: ignore[no-untyped-def]
    store.commit([Change("event", event.id, event.street, "report", "t", 0.0, None, event)])


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    day = 86400.0
    reported(store, make_event(1, reported_at=NOV_24, title='井盖缺失 "东门" <b>'))
    reported(
        store,
        make_event(
            2,
            reported_at=NOV_24 + 600,
            status="closed",
            source="patrol",
            accepted_at=NOV_24 + 700,
            closed_at=NOV_24 + 7200,
            due_at=NOV_24 + 3600,  # closed after its deadline: late
            rework_count=1,
            evaluation=4,
        ),
    )
    reported(
        store,
        make_event(
            3,
            reported_at=NOV_24 + day,
            street=DEKUAN,
            community="340803001001",
            grid="340803001001001",
        ),
    )
    # Outside the first test's period; a title a spreadsheet would take for a formula.
    reported(store, make_event(4, reported_at=NOV_24 + 5 * day, title='=HYPERLINK("x")'))
    store.close()
    return url


def test_a_period_to_xlsx_with_typed_columns_and_a_frozen_chinese_header(url, tmp_path) -> None:
    out = tmp_path / "十一月.xlsx"
    assert (
        main(["--url", url, "export", str(out), "--from", "2026-11-24", "--to", "2026-11-25"]) == 0
    )
    sheet = load_workbook(out).active
    assert sheet is not None and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS and len(rows) == 4  # the header and cases 1-3, in report order
    first, late = dict(zip(HEADERS, rows[1], strict=True)), dict(zip(HEADERS, rows[2], strict=True))
    assert first["标题"] == '井盖缺失 "东门" <b>'  # the data as text, exactly
    assert first["街道"] == "菱湖街道" and first["状态"] == "待受理" and first["来源"] == "12345"
    assert first["上报时间"] == datetime(2026, 11, 24, 9, 40)  # a date, in the district's time
    assert late["超期"] == "是" and late["返工次数"] == 1 and late["满意度评价"] == 4
    assert late["结案时间"] == datetime(2026, 11, 24, 11, 40) and late["来源"] == "巡查"


def test_filters_and_csv_for_excel(url, tmp_path, capsys) -> None:
    out = tmp_path / "菱湖.csv"
    args = ["--url", url, "export", str(out), "--from", "2026-11-24", "--to", "2026-11-30"]
    assert main([*args, "--street", LINGHU, "--source", "hotline"]) == 0
    assert "2 case(s)" in capsys.readouterr().out  # cases 1 and 4: 菱湖, from 12345
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for Chinese
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert tuple(rows[0]) == HEADERS
    assert [r[0] for r in rows[1:]] == ["DG-20261122-000001", "DG-20261122-000004"]
    assert rows[1][HEADERS.index("上报时间")] == "2026-11-24 09:40:00"
    assert rows[2][HEADERS.index("标题")] == '\'=HYPERLINK("x")'  # text, never a formula
    assert main([*args, "--status", "closed"]) == 0
    assert "1 case(s)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--street", "999"], "unknown street 999"),
        (["--status", "lost"], "unknown status lost"),
        (["--category", "99-99"], "unknown category 99-99"),
        (["--from", "24/11/2026"], "is not a date like 2026-11-24"),
        (["--to", "2026-11-01"], "--to is before --from"),
        (["--format", "pdf"], "invalid choice"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(url, tmp_path, capsys, extra, words) -> None:
    out = tmp_path / "x.csv"
    args = ["--url", url, "export", str(out), "--from", "2026-11-24", "--to", "2026-11-30"]
    try:
        code = main([*args, *extra])
    except SystemExit as exc:  # argparse's own refusal
        code = int(exc.code or 0)
    assert code == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [tmp_path / "d.db"] or not out.exists()


def test_a_file_that_cannot_be_written_leaves_nothing_behind(url, tmp_path, capsys) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    out = folder / "x.xlsx"
    out.mkdir()  # a directory where the file should go: the final rename fails
    args = ["--url", url, "export", str(out), "--from", "2026-11-24", "--to", "2026-11-30"]
    assert main(args) == 1
    assert "cannot write" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["x.xlsx"]  # no half-written file
