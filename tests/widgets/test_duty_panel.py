"""The duty panel lays out plain data, shows empty states, costs nothing when unchanged."""

from __future__ import annotations

from PySide6.QtCore import Qt

from widgets.duty_panel import CaseView, DutyPanel, NoteView, PersonView, wrap_text

COMMANDER = PersonView("王建国", "区委常委、副区长", "县干指挥长", "13905621234")
ROSTER = [
    PersonView("李明", "区委政法委副书记", "带班领导"),
    PersonView("张晓燕", "区社会治理中心主任", "值班长"),
]
NOTES = [
    NoteView("10:42", "王建国", "菱湖街道占道经营投诉已重复三次，请城管局今天下班前给出整改方案。"),
    NoteView("09:15", "王建国", "德宽路积水点安排专人值守。"),
]
CONSULTING = [
    CaseView(101, "TG-0031", "小区地下车库长期积水", "德宽路街道", "会商 2小时"),
    CaseView(102, "TG-0044", "农贸市场周边占道经营", "菱湖街道", "会商 35分", "warn"),
]
SUPERVISED = [CaseView(201, "TG-0007", "建筑垃圾乱倒未清运", "十里铺乡", "超期 3天", "alarm")]


def make(qtbot, width: int = 900, height: int = 300) -> DutyPanel:
    panel = DutyPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.resize(width, height)
    qtbot.waitUntil(lambda: panel.height() == height)
    return panel


def test_duty_and_cases_are_laid_out(qtbot) -> None:
    panel = make(qtbot)
    panel.show_duty(COMMANDER, ROSTER, NOTES)
    panel.show_cases(CONSULTING, SUPERVISED)
    texts = panel.texts()
    for expected in ("今日县干指挥长", "王建国", "区委常委、副区长", "13905621234", "李明"):
        assert expected in texts
    assert " · 区委政法委副书记 · 带班领导" in texts
    for expected in ("会商中", "督办超期", "指挥长最新指示", "10:42", "09:15"):
        assert expected in texts
    assert "2" in texts and "1" in texts  # the count badges
    for case in (*CONSULTING, *SUPERVISED):  # long titles are shortened, never overflow
        assert any(t.endswith("…") and case.title.startswith(t[:-1]) for t in texts) or (
            case.title in texts
        )
        assert case.info in texts
        assert panel.case_rect(case.key) is not None
    joined = "".join(texts)
    assert "德宽路积水点安排专人值守。" in joined and "菱湖街道占道经营投诉" in joined
    assert "暂无" not in texts


def test_empty_states(qtbot) -> None:
    panel = make(qtbot)
    panel.show_duty(None, [], [])
    panel.show_cases([], [])
    texts = panel.texts()
    assert texts.count("暂无") == 5  # commander, roster, both lists, instructions
    assert texts.count("0") == 2
    assert panel.case_rect(101) is None


def test_unchanged_data_costs_nothing(qtbot, monkeypatch) -> None:
    panel = make(qtbot)
    updates = []
    monkeypatch.setattr(panel, "update", lambda: updates.append(1))
    panel.show_duty(COMMANDER, ROSTER, NOTES)
    panel.show_cases(CONSULTING, SUPERVISED)
    panel.texts()
    layouts = panel.layouts
    panel.show_duty(COMMANDER, list(ROSTER), list(NOTES))
    panel.show_cases(list(CONSULTING), list(SUPERVISED))
    panel.texts()
    assert updates == [1, 1] and panel.layouts == layouts
    panel.show_cases(CONSULTING, [])
    assert updates == [1, 1, 1]
    assert panel.texts().count("暂无") == 1 and panel.layouts == layouts + 1


def test_overflow_is_counted_and_notes_are_capped(qtbot) -> None:
    panel = make(qtbot, 1800, 600)
    many = [CaseView(i, f"TG-{i}", f"案件{i}", "花亭街道", "会商") for i in range(12)]
    notes = [NoteView(f"0{i}:00", "王建国", f"指示{i}") for i in range(8)]
    panel.show_duty(COMMANDER, ROSTER * 6, notes)
    panel.show_cases(many, [])
    texts = panel.texts()
    assert "12" in texts
    shown = sum(1 for case in many if panel.case_rect(case.key) is not None)
    assert 0 < shown < 12 and f"另有{12 - shown}件" in texts
    assert [t for t in texts if t.startswith("指示")] == [f"指示{i}" for i in range(5)]
    assert any(t.startswith("另有") and t.endswith("人") for t in texts)


def test_clicking_a_case_emits_its_key(qtbot) -> None:
    panel = make(qtbot)
    panel.show_cases(CONSULTING, SUPERVISED)
    rect = panel.case_rect(201)
    assert rect is not None
    with qtbot.waitSignal(panel.caseClicked, timeout=1000) as blocker:
        qtbot.mouseClick(panel, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert blocker.args == [201]


def test_fonts_scale_with_the_panel(qtbot) -> None:
    panel = make(qtbot)
    panel.show_duty(COMMANDER, ROSTER, NOTES)
    name = panel.text_font("王建国")
    body = panel.font().pixelSize()
    assert name is not None and name.pixelSize() > body
    panel.resize(3840, 640)
    qtbot.waitUntil(lambda: panel.font().pixelSize() > body)
    bigger = panel.text_font("王建国")
    assert bigger is not None and bigger.pixelSize() > name.pixelSize()


def test_wrap_text_elides_the_last_line(qtbot) -> None:
    panel = make(qtbot)
    lines = wrap_text("一二三四五六七八九十" * 6, panel.font(), 60, 120, 2)
    assert len(lines) == 2 and lines[1].endswith("…")
    assert wrap_text("短", panel.font(), 60, 120, 2) == ["短"]


def test_no_text_is_drawn_over_another_however_narrow(qtbot) -> None:
    """The count badge and "另有N件" beside a heading keep their room: the heading is
    shortened, or "另有N件" left out (the badge counts them all), never drawn under them."""
    many = [CaseView(i, f"TG-{i}", f"案件{i}", "花亭街道", "剩19天7时", "alarm") for i in range(20)]
    for width in (900, 640, 480, 450):
        panel = make(qtbot, width, 300)
        panel.set_text_px(25)  # the wall's text at 1080p
        panel.show_duty(COMMANDER, ROSTER * 4, NOTES)
        panel.show_cases(many[:9], many)
        assert panel.clashes() == [], (width, panel.clashes())
        assert "20" in panel.texts() and "9" in panel.texts()


def test_the_badge_counts_every_case_not_only_those_given(qtbot) -> None:
    """The wall hands the panel the first 20 cases of a list: the badge and "另有N件" count
    them all (37 overdue under supervision read as 20 before)."""
    panel = make(qtbot, 1800, 600)
    first = [CaseView(i, f"TG-{i}", f"案件{i}", "花亭街道", "超期", "alarm") for i in range(20)]
    panel.show_cases([], first, totals=(0, 37))
    texts = panel.texts()
    assert "37" in texts and "20" not in texts
    shown = sum(1 for case in first if panel.case_rect(case.key) is not None)
    assert f"另有{37 - shown}件" in texts
