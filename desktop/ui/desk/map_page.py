"""地图: the grid map of my jurisdiction (the wall's map, fed the same way); a click on a grid
lists its open cases, a click on a case's marker selects that case and shows it in 我的待办
(as Enter on the list does: the list stays the keyboard's way), and the case in hand can be
located. The web page is built the first time the page is shown, so the desk's start is not
held up by it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import local
from desktop.core.map_feed import MapFeed, bounds, marker_event
from desktop.core.replica import Changes, Replica
from desktop.core.todo import due_of
from desktop.ui.coalescer import Coalescer
from desktop.ui.desk.files import write_file
from desktop.ui.desk.texts import due_text, status_text, tr
from desktop.ui.panels import MapView
from protocol.entities import OPEN_STATUSES, is_overdue
from widgets.situation_page import standalone_page

_ID = int(Qt.ItemDataRole.UserRole) + 1


class MapPage(QWidget):
    """The map, and the open cases of the grid last clicked."""

    caseChosen = Signal(int)  # Enter / double-click on a case, a click on its marker

    def __init__(
        self,
        replica: Replica,
        coalescer: Coalescer,
        clock: Callable[[], float],
        case_in_hand: Callable[[], int | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.replica = replica
        self._coalescer = coalescer
        self._clock = clock
        self._case_in_hand = case_in_hand
        self.view: MapView | None = None
        self._framed: str | None = None  # the street framed while visible ("" the district)
        self.grid = ""
        self.title = QLabel(tr("点击网格查看其未结案件"), self)
        self.title.setObjectName("sectionTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.cases = QListWidget(self)
        self.cases.setObjectName("mapCases")
        self.cases.setWordWrap(True)
        self.cases.itemActivated.connect(self._activated)
        locate = QPushButton(tr("定位当前案件 L"), self)
        locate.clicked.connect(self.locate)
        QShortcut(QKeySequence("L"), self, self.locate)
        export = QPushButton(tr("导出态势图…"), self)
        export.setToolTip(tr("此刻的地图存为一个网页文件，无需网络即可打开、转发"))
        export.clicked.connect(self.export_situation_map)
        self.side = QWidget(self)
        side = QVBoxLayout(self.side)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(locate)
        side.addWidget(export)
        side.addWidget(self.title)
        side.addWidget(self.cases, 1)
        self.side.setFixedWidth(420)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._placeholder = QLabel(tr("正在载入地图…"), self)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self._placeholder, 1)
        self._layout.addWidget(self.side)

    def showEvent(self, event: Any) -> None:
        """Build the map the first time the page is shown (if prepare() has not)."""
        super().showEvent(event)
        self.prepare()
        # Leaflet cannot fit bounds in a hidden (zero-sized) page: frame once it shows.
        QTimer.singleShot(100, self, self._frame)

    def prepare(self) -> None:
        """Build the map now (the window calls it once the to-do list is up); not in a window
        that has closed meanwhile."""
        if self.view is None and self.window().isVisible():
            self._build()

    def _build(self) -> None:
        from widgets.grid_map import GridMap

        grid_map = GridMap(centre=(117.06, 30.53), zoom=12, parent=self, label_px=14)
        self._layout.replaceWidget(self._placeholder, grid_map)
        self._placeholder.deleteLater()
        grid_map.show()
        self.map = grid_map
        self.view = MapView(self.replica, grid_map, clock=self._clock, parent=self)
        self._coalescer.subscribe(self.view.on_flush)
        grid_map.areaClicked.connect(self.show_grid)
        grid_map.markerClicked.connect(self._marker_clicked)
        grid_map.ready.connect(self._frame)
        # What the replica holds already goes in once the page is ready (MapView._ready).
        self.view.feed.collect(Changes(reset=True, units=True), self._clock())
        self._frame()

    def _frame(self) -> None:
        """Frame my street (or the district) once it is known: on the page's first full batch
        if it is not ready yet (MapView._ready), at once if it is and the page shows."""
        view = self.view
        if view is None or self.replica.units is None:
            return
        street = self._my_street()
        view.street = street
        view.feed.home = street
        if self.map.is_ready and self.isVisible() and street != self._framed:
            self._framed = street
            view.set_focus(street)

    def _my_street(self) -> str:
        """The street to frame: the one a street or community user works in, else none."""
        units = self.replica.units
        if units is None:
            return ""
        mine = {code[:9] for code in self.replica.jurisdiction}
        streets = [s.code for s in units.streets if s.code in mine]
        return streets[0] if len(streets) == 1 else ""

    def apply(self, changes: Changes) -> None:
        """Keep the listed grid's cases current; frame my street once it is known."""
        if changes.units or changes.reset:
            self._frame()
        if self.grid and (changes.reset or changes.events):
            self.show_grid(self.grid)

    def show_grid(self, code: str) -> None:
        """List a grid's open cases (a click on the map)."""
        names = self.replica.names()
        now = self._clock()
        self.grid = code
        cases = sorted(
            (
                e
                for e in self.replica.events.values()
                if e.grid == code and e.status in OPEN_STATUSES
            ),
            # The deadline the to-do list and the case card count down to (the stage's,
            # else the closure's): one case, one 剩 on every page.
            key=lambda e: (due_of(e) or float("inf"), e.id),
        )
        self.title.setText(
            tr("%1：未结案件 %2 件")
            .replace("%1", names.get(code, code))
            .replace("%2", str(len(cases)))
        )
        self.cases.clear()
        for event in cases:
            late = tr("（超期）") if is_overdue(event, now) else ""
            item = QListWidgetItem(
                f"{event.code} {event.title}\n{status_text(event.status)}{late} · "
                f"{due_text(due_of(event), now)}"
            )
            item.setData(_ID, event.id)
            self.cases.addItem(item)

    def locate(self) -> None:
        """Frame the case in hand's grid and list that grid."""
        event_id = self._case_in_hand()
        event = self.replica.events.get(event_id) if event_id is not None else None
        units = self.replica.units
        if event is None or units is None or self.view is None:
            return
        grid = next((g for g in units.grids if g.code == event.grid), None)
        if grid is not None:
            self.map.focus(bounds(grid.polygon), animate=False)
        self.show_grid(event.grid)

    def export_situation_map(self) -> None:
        """Ask where, then save the map as it stands as one HTML file (态势图)."""
        stamp = local_stamp(self._clock())
        name = tr("态势图")
        default = Path.home() / f"{name}-{stamp.replace(':', '').replace(' ', '-')}.html"
        chosen, _ = QFileDialog.getSaveFileName(
            self, tr("导出态势图"), str(default), tr("网页 (*.html)")
        )
        if not chosen:
            return
        try:
            self.write_situation_map(Path(chosen))
        except OSError as exc:
            QMessageBox.warning(
                self,
                tr("导出态势图"),
                tr("无法写入 %1：%2").replace("%1", chosen).replace("%2", exc.strerror or str(exc)),
            )

    def write_situation_map(self, path: Path) -> int:
        """Write my jurisdiction's map as it stands to `path`, framed on my street (or the
        district); how many cases it shows. Written beside and renamed: never half a file."""
        units = self.replica.units
        if units is None:
            raise OSError(0, tr("地图数据尚未载入"))
        now = self._clock()
        feed = MapFeed(self.replica, label_px=16)
        batch = feed.full(now)
        street = next((s for s in units.streets if s.code == self._my_street()), None)
        rings = street.polygon if street is not None else units.outline
        if rings:
            batch["fit"] = bounds(rings)
        stamp = local_stamp(now)
        place = street.name if street is not None else units.district_name
        config = {
            "center": [30.53, 117.06],
            "zoom": 12,
            "tiles": None,
            "labelPx": 16,
            "tooltipPx": 14,
            "note": tr("示意图，非标准地图 · %1 导出").replace("%1", stamp),
        }
        title = tr("%1态势图 %2").replace("%1", place).replace("%2", stamp)
        write_file(path, standalone_page(config, [batch], title).encode("utf-8"))
        return sum(1 for m in batch["markers"] if str(m.get("id", "")).startswith("e"))

    def _marker_clicked(self, marker: str) -> None:
        """A case's marker clicked: list its grid with the case selected, and show the case."""
        event_id = marker_event(marker)
        event = self.replica.events.get(event_id) if event_id is not None else None
        if event is None:
            return  # gone meanwhile (the map hears of it with the next batch)
        self.show_grid(event.grid)
        for row in range(self.cases.count()):
            if self.cases.item(row).data(_ID) == event.id:
                self.cases.setCurrentRow(row)
                break
        self.caseChosen.emit(event.id)

    def _activated(self, item: QListWidgetItem) -> None:
        event_id = item.data(_ID)
        if isinstance(event_id, int):
            self.caseChosen.emit(event_id)


def local_stamp(now: float) -> str:
    """The district's date and minute, as a title or a file name shows it."""
    return local(now).strftime("%Y-%m-%d %H:%M")
