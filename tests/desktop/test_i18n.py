"""The English translation: current with the sources, and applied to a real wall window."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSize, Qt, QTranslator

from desktop.core.replica import Replica
from desktop.i18n import FOLDER as I18N
from desktop.ui import models
from desktop.ui.wall import WallWindow

ROOT = Path(__file__).resolve().parents[2]


def test_translations_are_complete_and_compiled() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "desktop.i18n.update", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def english(qapp) -> Iterator[None]:
    """The app's English translator, installed for one test and removed again."""
    translator = QTranslator()
    assert translator.load(str(I18N / "tongguan_en.qm"))
    assert qapp.installTranslator(translator)
    try:
        yield
    finally:
        qapp.removeTranslator(translator)


def shown(qtbot) -> dict[str, str]:
    """The texts of a freshly built wall that the tests compare."""
    window = WallWindow(Replica())
    qtbot.addWidget(window)
    window.kpi_view.show()
    queue = window.queue_view.model
    now = time.time()
    return {
        "window title": window.windowTitle(),
        "queue title": window.queue_panel.title.full_text(),
        "queue header": queue.headerData(0, Qt.Orientation.Horizontal),
        "status header": queue.headerData(4, Qt.Orientation.Horizontal),
        "status filter": window.status_filter.itemText(1),
        "received tile": window.kpis.tiles["received"].label.full_text(),
        "overdue tile": window.kpis.tiles["overdue"].label.full_text(),
        "kpi title": window.kpi_panel.title.full_text(),
        "mute": window.header.mute.text(),
        "banner": window.banner.text(),
        "priority": models.text(models.PRIORITY_TEXT, 1),
        "source": models.text(models.SOURCE_TEXT, "citizen"),
        "overdue": models.countdown(now - 90, now),
        "left": models.countdown(now + 2 * 3600 + 15 * 60, now),
        "days": models.countdown(now + 3 * 86400 + 4 * 3600 + 60, now),
        "overdue filter": window.status_filter.itemText(window.status_filter.count() - 1),
        "order": window.queue_order.itemText(1),
    }


CHINESE = {
    "window title": "通观 · 智慧联动指挥大屏",
    "queue title": "事件队列",
    "queue header": "紧急",
    "status header": "状态",
    "status filter": "待受理",
    "received tile": "今日接报",
    "overdue tile": "当前超期",
    "kpi title": "今日指标 · 全区",
    "mute": "声音",
    "banner": "正在连接调度服务…",
    "priority": "特急",
    "source": "随手拍",
    "overdue": "超时1分",
    "left": "2时15分",
    "days": "3天4时",
    "overdue filter": "超期",
    "order": "按剩余时限",
}
ENGLISH = {
    "window title": "Tongguan · Smart Linkage Command Wall",
    "queue title": "Case queue",
    "queue header": "Prio.",
    "status header": "Status",
    "status filter": "To accept",
    "received tile": "Received",
    "overdue tile": "Overdue now",
    "kpi title": "Today's KPIs · District",
    "mute": "Sound",
    "banner": "Connecting to the dispatch service…",
    "priority": "Critical",
    "source": "Photo",
    "overdue": "1m late",
    "left": "2h 15m",
    "days": "3d 4h",
    "overdue filter": "Overdue",
    "order": "By deadline",
}


def test_the_wall_speaks_english_with_the_translator(qtbot, english) -> None:
    assert shown(qtbot) == ENGLISH


def test_the_wall_stays_chinese_without_it(qtbot) -> None:
    assert QCoreApplication.translate("Texts", "特急") == "特急"
    assert shown(qtbot) == CHINESE


def test_a_module_translator_function_files_its_calls_under_its_context(tmp_path) -> None:
    """`tr("…")` through a module function like desktop/ui/desk/texts.tr, in its own file
    and imported elsewhere, is filed under the function's context; a `tr` parameter is not."""
    from desktop.i18n.update import Message, scan

    (tmp_path / "desktop").mkdir()
    (tmp_path / "widgets").mkdir()
    (tmp_path / "desktop" / "texts.py").write_text(
        "from PySide6.QtCore import QCoreApplication\n"
        "def tr(source: str) -> str:\n"
        '    """Doc."""\n'
        '    return QCoreApplication.translate("Desk", source)\n'
        'A = tr("本模块")\n',
        encoding="utf-8",
    )
    (tmp_path / "desktop" / "page.py").write_text(
        'from desktop.texts import tr\nB = tr("别的模块")\ndef f(tr):\n    return tr("参数")\n',
        encoding="utf-8",
    )
    found = scan(tmp_path)
    assert Message("Desk", "本模块") in found.messages
    assert Message("Desk", "别的模块") in found.messages
    assert not any(m.source == "参数" and m.context == "Desk" for m in found.messages)


@pytest.fixture
def wall_font(qapp) -> Iterator[None]:
    """The application's font and palette (desktop/ui/app.py), as the wall measures them."""
    from desktop.ui.theme import apply_palette

    font, palette = qapp.font(), qapp.palette()
    apply_palette(qapp)
    try:
        yield
    finally:
        qapp.setFont(font)
        qapp.setPalette(palette)


def legend_lines(qtbot, size: QSize) -> dict[str, int]:
    """How many lines each of a fresh wall's legends takes at a screen size."""
    window = WallWindow(Replica())
    qtbot.addWidget(window)
    window.resize(size)
    window._lay_out(size)
    legends = {
        "kpi": window.kpi_legend,
        "trend": window.trend_legend,
        "ranking": window.ranking_legend,
        "map": window.map_legend,
        "queue": window.queue_legend,
    }
    window._size_legends()
    return {name: legend.lines_for(legend.width()) for name, legend in legends.items()}


SCREENS = [QSize(1920, 1080), QSize(3840, 2160)]


@pytest.mark.parametrize("size", SCREENS, ids=["1080p", "4K"])
def test_the_legends_take_as_many_lines_in_english_as_in_chinese(
    qtbot, qapp, wall_font, size
) -> None:
    chinese = legend_lines(qtbot, size)
    assert chinese == {"kpi": 1, "trend": 1, "ranking": 1, "map": 2, "queue": 1}
    translator = QTranslator()
    assert translator.load(str(I18N / "tongguan_en.qm")) and qapp.installTranslator(translator)
    try:
        assert legend_lines(qtbot, size) == chinese  # the map's: two lines, not three
    finally:
        qapp.removeTranslator(translator)


@pytest.mark.parametrize("size", SCREENS, ids=["1080p", "4K"])
def test_in_english_the_duty_panel_draws_no_text_over_another(
    qtbot, english, wall_font, size
) -> None:
    """ "Supervised, late" with its count badge and "+5 more": the badge never covers the
    words beside it, whatever the lists hold."""
    from widgets.duty_panel import CaseView, NoteView, PersonView

    window = WallWindow(Replica())
    qtbot.addWidget(window)
    window.resize(size)
    window._lay_out(size)
    duty = window.duty
    duty.show()
    people = [PersonView(f"值班员{i}", "视频巡查员", "区联动中心", "138****0000") for i in range(8)]
    duty.show_duty(
        PersonView("吴国平", "区政协副主席", "县干指挥长", "188****5078"),
        people,
        [NoteView("09:00", "县干指挥长", "请集贤路街道分中心对督办案件逐件销号，明早交班前报送。")],
    )
    for count in (1, 3, 9, 20):  # a list holds 20 at most (desktop.core.views.DUTY_CASES)
        cases = [
            CaseView(i, f"DG-{i}", "机动车违停（蔡山路）", "菱湖街道", "19d 7h left", "alarm")
            for i in range(count)
        ]
        duty.show_cases(cases, cases)
        texts = duty.texts()
        assert {"In consultation", "Supervised, late", str(count)} <= set(texts), texts
        if count == 9:  # room for "+7 more" beside the badge (at 20 the badge alone counts)
            assert any(t.startswith("+") and t.endswith("more") for t in texts), texts
        assert duty.clashes() == [], (count, duty.clashes())


def test_the_desks_count_fits_in_english(qtbot, english, qapp) -> None:
    """The to-do list's count at the end of its filters: room for its longest text, never
    cut at the pane's edge ("4 cases" was)."""
    import widgets.grid_map  # noqa: F401  (QtWebEngine before any page)
    from desktop.ui.desk import style
    from desktop.ui.desk.window import DeskWindow

    sheet = qapp.styleSheet()
    qapp.setStyleSheet(style.stylesheet())
    try:
        window = DeskWindow(Replica())
        qtbot.addWidget(window)
        window.resize(1920, 1080)
        window.show()
        count = window.todo.count
        for text in ("Cases: 4", "Cases: 1234 of 5678"):
            count.setText(text)
            qtbot.wait(20)
            needed = count.fontMetrics().horizontalAdvance(text)
            assert count.contentsRect().width() >= needed, (text, count.width(), needed)
            left = count.parentWidget()
            assert count.geometry().right() < left.width(), "inside its pane"
    finally:
        qapp.setStyleSheet(sheet)
