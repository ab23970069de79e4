"""The streaming XLSX writer's files, read back by openpyxl (an independent reader)."""

from __future__ import annotations

from datetime import datetime

from openpyxl import load_workbook

from dispatch.xlsx import column_letters, write


def test_typed_cells_a_frozen_bold_header_and_text_kept_as_text(tmp_path) -> None:
    path = tmp_path / "t.xlsx"
    rows = [
        ['甲 & <乙> "丙"', 3, datetime(2026, 11, 24, 9, 40, 5)],
        ["控制\x01字符\x1f 😀\n第二行", None, None],
        ["=SUM(A1:A2)", 2.5, datetime(1999, 12, 31, 23, 59, 59)],  # a formula stays text
    ]
    count = write(
        tmp_path / "t.xlsx",
        "事件 <1>",
        ["名称", "数量", "时间"],
        ["text", "number", "time"],
        [10, 8, 19],
        rows,
    )
    assert count == 3
    book = load_workbook(path)
    sheet = book["事件 <1>"]
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["名称", "数量", "时间"] and sheet["A1"].font.b
    assert sheet["A2"].value == '甲 & <乙> "丙"' and sheet["B2"].value == 3
    assert sheet["C2"].value == datetime(2026, 11, 24, 9, 40, 5) and sheet["C2"].is_date
    assert sheet["A3"].value == "控制字符 😀\n第二行"  # what XML cannot carry is dropped
    assert sheet["B3"].value is None and sheet["C3"].value is None
    assert sheet["A4"].value == "=SUM(A1:A2)" and sheet["A4"].data_type == "s"
    assert sheet["B4"].value == 2.5 and sheet.column_dimensions["C"].width == 19


def test_column_letters_past_z() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]
