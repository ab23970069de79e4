"""The English translation: current with the sources, and applied to a real wall window."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTranslator

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
