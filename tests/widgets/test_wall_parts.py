"""The wall's smaller widgets: header, outage banner, alert card, grid details, panel."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QListView

from widgets.alert_card import AlertCardDelegate, CardRoles
from widgets.grid_details import GridDetails
from widgets.panel import Panel
from widgets.wall_header import OutageBanner, WallHeader


def test_header_clock_freshness_and_mute(qtbot) -> None:
    header = WallHeader("大观区智慧联动中心", clock_text=lambda: "2026-11-22  12:00:00")
    qtbot.addWidget(header)
    header.resize(1920, 70)
    header.show()
    qtbot.waitExposed(header)
    assert header.clock.text() == "2026-11-22 12:00:00"  # one line, one space
    header.set_freshness(True, 1.23)
    assert "1.2" in header.freshness.text() and "#52c41a" in header.freshness.styleSheet()
    header.set_freshness(True, 30)
    assert "#ffb300" in header.freshness.styleSheet()
    header.set_freshness(True, 600)
    assert "10" in header.freshness.text()
    header.set_freshness(False, None)
    assert header.freshness.text() == "连接中断"
    # Each part keeps its share of the width, whatever it says: a long notice is shortened.
    before = {name: getattr(header, name).geometry() for name in ("title", "scope", "clock")}
    header.set_notice("工作日历" * 30)
    header.set_scope("菱湖街道（轮巡暂停：新特急事件）")
    assert header.notice.is_elided() and header.notice.text().endswith("…")
    assert {name: getattr(header, name).geometry() for name in before} == before
    toggled: list[bool] = []
    header.muteToggled.connect(toggled.append)
    header.set_muted(True)
    assert toggled == [True] and header.mute.text() == "静音"


def test_banner_says_since_when_and_hides(qtbot) -> None:
    banner = OutageBanner()
    qtbot.addWidget(banner)
    banner.show()
    banner.show_outage("12:34:56", 3, "connection closed (1006)")
    assert banner.isVisible()
    assert "数据截至 12:34:56" in banner.text() and "第 3 次" in banner.text()
    banner.show_outage(None, 0)
    assert "尚未连接" in banner.text()
    banner.hide_outage()
    assert not banner.isVisible()


class _Cards(QAbstractListModel):
    ROLES = CardRoles(*(Qt.ItemDataRole.UserRole + i for i in range(1, 9)))

    def __init__(self, rows: list[dict]) -> None:
        super().__init__()
        self.rows = rows

    def rowCount(self, parent=QModelIndex()) -> int:
        return len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        names = ["camera", "kind", "score", "time", "count", "status", "thumbnail", "place"]
        for name in names:
            if role == getattr(self.ROLES, name):
                return self.rows[index.row()].get(name)
        return None


def test_alert_card_paints_thumbnail_text_and_burst_count(qtbot) -> None:
    thumb = QPixmap(160, 90)
    thumb.fill(Qt.GlobalColor.red)
    model = _Cards(
        [
            {
                "camera": "莲湖小区南门",
                "kind": "烟雾火情",
                "score": 0.93,
                "time": "12:00:01",
                "count": 5,
                "status": "new",
                "thumbnail": thumb,
                "place": "第3网格",
            },
            {
                "camera": "路口",
                "kind": "占道经营",
                "score": 0.5,
                "time": "11:00:00",
                "count": 1,
                "status": "confirmed",
            },
        ]
    )
    view = QListView()
    qtbot.addWidget(view)
    delegate = AlertCardDelegate(_Cards.ROLES, view)
    view.setModel(model)
    view.setItemDelegate(delegate)
    view.resize(420, 300)
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    # The thumbnail (red) is painted in the first card; the burst badge is red too.
    reds = sum(
        1
        for x in range(0, image.width(), 4)
        for y in range(0, 90, 4)
        if image.pixelColor(x, y).red() > 200 and image.pixelColor(x, y).green() < 80
    )
    assert reds > 50
    big = delegate.sizeHint(
        view.viewOptions() if hasattr(view, "viewOptions") else None, model.index(0)
    )  # type: ignore[arg-type]
    delegate.scale = 2.0
    assert delegate.sizeHint(None, model.index(0)).height() == 2 * big.height()  # type: ignore[arg-type]


def test_grid_details_card_shows_and_lingers(qtbot) -> None:
    card = GridDetails(linger_ms=100)
    qtbot.addWidget(card)
    card.show_grid("第1网格 · 莲湖社区", ["网格员 张三 13800000000"], ["井盖缺失 处置中"], more=2)
    assert card.isVisible()
    assert "另有 2 件" in card.events.text() and "张三" in card.people.text()
    qtbot.waitUntil(lambda: not card.isVisible(), timeout=2000)
    card.show_grid("第2网格", [], [])
    assert "暂无在办事件" in card.events.text() and "暂缺" in card.people.text()


def test_panel_title_count_and_controls(qtbot) -> None:
    panel = Panel("事件队列", QLabel("内容"))
    qtbot.addWidget(panel)
    panel.set_count("12 件")
    panel.add_control(QLabel("筛选"))
    assert panel.title.text() == "事件队列" and panel.count.text() == "12 件"
