"""The wall's panels, each redrawing its part from the replica once per frame.

Each view holds the widgets of one panel (built and laid out by `WallWindow`) and has an
`on_flush(changes)` that the window subscribes to the frame coalescer, so a frame is one
pass through the views in a fixed order and no view hears a signal per message. Their texts
keep the "WallWindow" translation context: they are the wall's words, where the .ts has
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QListView

from desktop.core.district_time import moment
from desktop.core.map_feed import MapFeed, bounds, outline_batch
from desktop.core.privacy import mask_phone, mask_phones
from desktop.core.replica import Changes, Replica, short_name
from desktop.core.time_machine import Figures
from desktop.core.views import (
    DutyCases,
    calendar_warning,
    case_lines,
    kpi_values,
    ranking_rows,
    stage_late,
)
from desktop.ui.coalescer import Coalescer
from desktop.ui.models import AlertFeedModel, EventQueueModel, countdown
from desktop.ui.thumbnails import ThumbnailLoader
from protocol.entities import Event, Kpi, Reference
from widgets.cover import Cover
from widgets.duty_panel import CaseView, DutyPanel, NoteView, PersonView
from widgets.grid_map import GridMap
from widgets.kpi_board import KpiBoard, Tile
from widgets.panel import Panel
from widgets.street_ranking import RankRow, StreetRanking
from widgets.trend_chart import HourlyTrend

MAP_MS, MAP_SLOW_MS = 400, 1000  # map batches at most this often; the slower when busy
MAP_BUSY = 200  # markers added or removed in one batch that make the stream busy
DISTRICT = "district"
THUMBNAILS_AHEAD = 12  # alert cards whose snapshots are fetched before they scroll in
THUMBNAILS_KEPT = 48  # above this many held, those below the first cards are dropped
OVERDUE = "overdue"  # the queue's status filter for the cases late now

Clock = Callable[[], float]


class KpiView:
    """Today's KPI tiles, the hourly trend and the street ranking, for the focused scope."""

    def __init__(
        self,
        replica: Replica,
        panel: Panel,
        tiles: KpiBoard,
        trend: HourlyTrend,
        ranking: StreetRanking,
        *,
        street_name: Callable[[str], str],
        notice: Callable[[str], None],
        replay_figures: Callable[[], Figures] = lambda: "shown",
    ) -> None:
        self.replica = replica
        self.panel = panel
        self.tiles = tiles
        self.trend = trend
        self.ranking = ranking
        self._street_name = street_name
        self._notice = notice
        self._replay_figures = replay_figures  # in the past: are the figures the playhead's?
        self.street = ""
        self.replaying = False  # the wall shows the past: the day's figures then, no month

    def set_replaying(self, replaying: bool) -> None:
        """Into the past or back (the ranking is this month's: not kept for the past)."""
        self.replaying = replaying
        self.ranking.set_empty_text(
            QCoreApplication.translate("WallWindow", "复盘时不显示本月排名") if replaying else ""
        )
        self.show()

    def on_flush(self, changes: Changes) -> None:
        """Redraw when the figures (or everything) changed."""
        if changes.kpis or changes.reset:
            self.show()

    def set_focus(self, street: str) -> None:
        """Show a street's figures ('' = the district)."""
        self.street = street
        self.show()

    def show(self) -> None:
        """Draw the tiles, the trend and the ranking from the replica."""
        kpi = self.replica.kpis.get(self.street or DISTRICT) or Kpi()
        # An earlier moment's figures are never shown as the playhead's: dots until they come.
        figures = self._replay_figures() if self.replaying else "shown"
        partial = self.replica.kpis_partial or figures != "shown"
        self.tiles.show_tiles(kpi_tiles(kpi, partial))
        self.panel.set_title(self._title(figures))
        self.trend.show(list(kpi.hourly), list(kpi.hourly_yesterday))
        self.ranking.show([] if partial or self.replaying else self.ranking_rows())
        if self.replica.no_writer:
            self._notice(QCoreApplication.translate("WallWindow", "暂无主节点，案件办理暂停"))
        else:
            self._notice(calendar_notice(self.replica.units, self.replica.events.values()))

    def _title(self, figures: Figures) -> str:
        """What the figures under it are: loading, the replayed moment's (or not yet), today's."""
        if self.replica.kpis_partial:
            return QCoreApplication.translate("WallWindow", "正在载入今日数据…")
        if figures == "pending":
            return QCoreApplication.translate("WallWindow", "正在计算此刻指标…")
        if figures == "failed":
            return QCoreApplication.translate("WallWindow", "此刻指标未能取得")
        if self.replaying:
            title = QCoreApplication.translate("WallWindow", "复盘当日指标 · %s")
        else:
            title = QCoreApplication.translate("WallWindow", "今日指标 · %s")
        return title % self._street_name(self.street)

    def ranking_rows(self) -> list[RankRow]:
        """The street ranking's rows, worded."""
        return [
            RankRow(
                key=row.key,
                # 德宽路 for 德宽路街道: the bars keep their room (the tooltip says it whole).
                name=short_name(row.name),
                value=row.value,
                text=(
                    QCoreApplication.translate("WallWindow", "%s分") % f"{row.value:.1f}"
                    if row.score is not None
                    else "—"
                )
                + QCoreApplication.translate("WallWindow", " · 超期%s") % row.overdue,
                tone=row.tone,
            )
            for row in ranking_rows(self.replica)
        ]


class DutyView:
    """The duty commander, the roster, the instructions and the cases they watch."""

    def __init__(self, replica: Replica, duty: DutyPanel, *, clock: Clock) -> None:
        self.replica = replica
        self.duty = duty
        self._clock = clock
        self.cases = DutyCases()

    def on_flush(self, changes: Changes) -> None:
        """Follow the watched cases and redraw when the duty or the cases changed."""
        if changes.reset or changes.events:
            self.cases.track(self.replica, changes, self._clock())
        if changes.duty or changes.reset or changes.events or changes.people:
            self.show()

    def show(self) -> None:
        """Draw the duty and the consulted and supervised cases."""
        duty = self.replica.duty
        units = self.replica.units
        if units is not None and units.districts and self.replica.duties:
            self._show_city()  # several districts seen: each one's commander
        elif duty is not None:
            # Visitors see the wall: phone numbers masked.
            commander = PersonView(
                duty.commander.name,
                duty.commander.title,
                duty.commander.post,
                mask_phone(duty.commander.phone),
            )
            roster = [PersonView(p.name, p.title, p.post, mask_phone(p.phone)) for p in duty.roster]
            now = self._clock()
            notes = [
                NoteView(moment(d.at, now), self.replica.person(d.by), d.text)
                for d in sorted(duty.instructions, key=lambda d: -d.at)[:5]
            ]
            self.duty.show_duty(commander, roster, notes)
        else:
            self.duty.show_duty(None, [], [])
        self.duty.show_cases(
            self._case_views(self.cases.consulting, "normal"),
            self._case_views(self.cases.supervised, "alarm"),
            (len(self.cases.consulting), len(self.cases.supervised)),
        )

    def _show_city(self) -> None:
        """A city's wall: the first district's commander on the card, every other district's
        commander in the list below, and the latest instructions of them all, each marked
        with its district."""
        units = self.replica.units
        names = units.districts if units is not None else {}
        duties = self.replica.duties
        first, *others = [d for d in names if d in duties] or list(duties)

        def district(code: str) -> str:
            return short_name(names.get(code, code))

        lead = duties[first].commander
        commander = PersonView(
            lead.name, f"{names.get(first, first)} · {lead.title}", lead.post, ""
        )
        roster = [
            PersonView(duties[d].commander.name, names.get(d, d), duties[d].commander.title)
            for d in others
        ]
        now = self._clock()
        notes = sorted(
            ((d, note) for d in duties for note in duties[d].instructions),
            key=lambda pair: -pair[1].at,
        )[:5]
        views = [
            NoteView(moment(n.at, now), self.replica.person(n.by), f"【{district(d)}】{n.text}")
            for d, n in notes
        ]
        title = QCoreApplication.translate("WallWindow", "其他区县干指挥长")
        self.duty.show_duty(commander, roster, views, roster_title=title)

    def _case_views(self, ids: set[int], tone: str) -> list[CaseView]:
        now = self._clock()
        return [
            CaseView(
                key=line.key,
                code=line.code,
                title=mask_phones(line.title),
                place=line.place,
                info=(
                    QCoreApplication.translate("WallWindow", "环节超期")
                    if line.stage_late
                    else time_left(line.due_at, now)
                ),
                tone=tone,
            )
            for line in case_lines(self.replica, ids, now)
        ]

    @staticmethod
    def lateness(event: Event, now: float) -> str:
        """How late a case is: past its closure deadline by so long, or late at a stage."""
        if stage_late(event, now):
            return QCoreApplication.translate("WallWindow", "环节超期")
        return time_left(event.due_at, now)


def time_left(deadline: float | None, now: float) -> str:
    """A countdown that says which way it runs: 剩2时15分 ahead, 超时17分 past it."""
    if deadline is None:
        return ""
    if deadline < now:
        return countdown(deadline, now)
    return QCoreApplication.translate("WallWindow", "剩%1").replace("%1", countdown(deadline, now))


class QueueView:
    """The event queue: its model, its count, its street and status filters and its order."""

    def __init__(
        self,
        replica: Replica,
        model: EventQueueModel,
        panel: Panel,
        street_filter: QComboBox,
        status_filter: QComboBox,
        order: QComboBox | None = None,
        cover: Cover | None = None,
    ) -> None:
        self.replica = replica
        self.model = model
        self.panel = panel
        self.street_filter = street_filter
        self.status_filter = status_filter
        self.order = order
        self.cover = cover  # over the rows while the backend catches up on the day
        self.street = ""
        self._units_version: str | None = None

    def on_flush(self, changes: Changes) -> None:
        """Offer new streets in the filter, apply the frame to the model, count the rows."""
        if changes.units and self.replica.units is not None:
            self._show_streets(self.replica.units)
        self.model.apply(changes)
        self.show_count()

    def _show_streets(self, units: Reference) -> None:
        if self.replica.units_version == self._units_version:
            return
        self._units_version = self.replica.units_version
        self.street_filter.blockSignals(True)
        while self.street_filter.count() > 1:
            self.street_filter.removeItem(1)
        for street in units.streets:
            self.street_filter.addItem(street.name, street.code)
        self.street_filter.blockSignals(False)

    def set_focus(self, street: str) -> None:
        """Show a street's cases ('' = the district's) and say so in the street filter."""
        self.street = street
        index = self.street_filter.findData(street)
        self.street_filter.blockSignals(True)
        self.street_filter.setCurrentIndex(max(0, index))
        self.street_filter.blockSignals(False)
        self.apply_filter()
        self.show_count()

    def apply_filter(self) -> None:
        """Filter the model by the focused street and the chosen status (or the late cases),
        in the chosen order."""
        chosen = self.status_filter.currentData()
        overdue = chosen == OVERDUE
        statuses = [chosen] if isinstance(chosen, str) and not overdue else None
        order = self.order.currentData() if self.order is not None else None
        self.model.set_filter(
            [self.street] if self.street else None,
            statuses,
            overdue=overdue,
            order=order if isinstance(order, str) else "priority",
        )
        self.show_count()

    def show_count(self) -> None:
        """The number of rows in the panel's title bar (none before the first snapshot: the
        units alone are no count); while the backend catches up on the day, neither rows nor
        a count, only the cover's note: they would be a part of the day passing for all of
        it."""
        syncing = self.replica.syncing
        if self.cover is not None:
            self.cover.set_covering(syncing)
        if self.replica.epoch is None or syncing:
            self.panel.set_count("")
            return
        self.panel.set_count(
            QCoreApplication.translate("WallWindow", "%s 件") % self.model.rowCount()
        )


class AlertView:
    """The camera alert feed: its model, its count, its empty note and the snapshots."""

    def __init__(
        self,
        replica: Replica,
        model: AlertFeedModel,
        panel: Panel,
        alerts: QListView,
        empty: QLabel,
        cover: Cover | None = None,
    ) -> None:
        self.replica = replica
        self.model = model
        self.panel = panel
        self.alerts = alerts
        self.empty = empty
        self.cover = cover  # over the cards while the backend catches up on the day
        self.loader: ThumbnailLoader | None = None  # set once the session is known
        self._epoch: str | None = None

    def on_flush(self, changes: Changes) -> None:
        """Apply the frame, fetch the snapshots now in view, count the alerts."""
        if changes.reset and self.replica.epoch != self._epoch:
            # Another epoch (a new database): alert ids name other alerts now.
            self._epoch = self.replica.epoch
            self.model.thumbnails.clear()
            if self.loader is not None:
                self.loader.clear()
        self.model.apply(changes)
        if changes.alerts or changes.reset:
            if len(self.model.thumbnails) > THUMBNAILS_KEPT:
                # However fast alerts come (a simulator at 1,000x), the snapshots held stay
                # bounded, not only at the once-a-minute tidy-up.
                self.forget_thumbnails()
            self.want_thumbnails()
        self.show_count()

    def set_focus(self, street: str) -> None:
        """Show a street's alerts ('' = the district's)."""
        self.model.set_filter([street] if street else None)
        self.want_thumbnails()
        self.show_count()

    def show_count(self) -> None:
        """The number of alerts in the title bar; a note in place of an empty list (neither
        before the first snapshot); while the backend catches up on the day, the cover's
        note over the cards and no count."""
        alerts = self.model.rowCount()
        syncing = self.replica.syncing
        if self.cover is not None:
            self.cover.set_covering(syncing)
        loaded = self.replica.epoch is not None and not syncing
        self.panel.set_count(
            QCoreApplication.translate("WallWindow", "%s 条待处理") % alerts if loaded else ""
        )
        self.empty.setVisible(loaded and alerts == 0)
        self.empty.resize(self.alerts.viewport().size())

    def want_thumbnails(self) -> None:
        """Ask for the snapshots of the first cards that have none yet."""
        if self.loader is None:
            return
        for row in range(min(THUMBNAILS_AHEAD, self.model.rowCount())):
            alert = self.model.alert_at(row)
            if alert is not None and alert.id not in self.model.thumbnails:
                self.loader.want(alert.id, alert.snapshot)

    def thumbnail_loaded(self, alert_id: int, pixmap: QPixmap) -> None:
        """A snapshot arrived for an alert card."""
        self.model.thumbnail_ready(alert_id, pixmap)

    def forget_thumbnails(self) -> None:
        """Drop the snapshots of alerts gone from the feed (they may be fetched again)."""
        kept = self.model.forget_thumbnails()
        if self.loader is not None:
            self.loader.forget(kept)


class MapView:
    """The grid map: each frame's share of the work, sent to the page in slower batches."""

    def __init__(
        self,
        replica: Replica,
        grid_map: GridMap,
        *,
        clock: Clock,
        parent: QObject,
        label_px: float = 17.0,
        hold: bool = False,
    ) -> None:
        self.replica = replica
        self.map = grid_map
        self._clock = clock
        # hold: no cases on the map while the backend catches up on the day (MapFeed).
        self.feed = MapFeed(replica, label_px, hold=hold)
        self.street = ""
        # Jump to a new focus: a flight shows a half-drawn map for its second (the clusters
        # are hidden mid-zoom, tiles half loaded), which the tour showed on 2 steps in 16.
        self.animate = False
        self.pump = Coalescer(MAP_MS, parent)  # the map gets fewer, larger batches
        self.pump.subscribe(self.send)
        self.outline: dict[str, Any] | None = None  # drawn until the units come
        grid_map.ready.connect(self._ready)
        grid_map.restarted.connect(self.feed.page_lost)

    def show_outline(self, district: str, rings: list[list[list[float]]]) -> None:
        """Draw the district's outline while the units have not come (the loading state)."""
        if self.replica.units is not None:
            return
        self.outline = outline_batch(district, rings)
        if self.map.is_ready:
            self.map.apply_batch(self.outline)

    def drawn(self) -> bool:
        """Whether the page has been sent the whole state (units and events) and no whole
        batch waits (the page applies it before any script run after it)."""
        return self.map.is_ready and self.feed.whole_sent

    def on_flush(self, changes: Changes) -> None:
        """Work out the frame's share of the map and queue it for the next batch."""
        self.feed.collect(changes, self._clock())
        self.pump.push(changes)
        if changes.reset or self.feed.held_until_whole:
            # A snapshot (the start, a reconnect), or the end of the backend's catch-up that
            # held the cases back: the whole map goes with this frame, not after the rest of
            # the pump's interval (up to a second after a batch as big as the units).
            self.pump.flush()

    def send(self, changes: Changes) -> None:
        """Send the page what has gathered since the last batch."""
        if not self.map.is_ready:
            return  # the page gets everything in one batch when it is ready (_ready)
        batch = self.feed.take(self._clock())
        if batch:
            self.map.apply_batch(batch)
            # A heavy stream gets fewer, larger batches: the page's cost is per batch (the
            # cluster, the canvas), and nobody reads a map faster than once a second.
            busy = len(batch.get("markers", ())) + len(batch.get("remove", ())) > MAP_BUSY
            self.pump.set_interval(MAP_SLOW_MS if busy else MAP_MS)

    def _ready(self) -> None:
        if self.replica.units is not None:
            self.map.apply_batch(self.feed.full(self._clock()))
            if self.street:
                self._focus()
        elif self.outline is not None:
            self.map.apply_batch(self.outline)

    def set_focus(self, street: str) -> None:
        """Frame a street ('' = the district)."""
        self.street = street
        self._focus()

    def refit(self) -> None:
        """Frame the focus again at once: the map's panel changed size (复盘's time bar)."""
        self._focus(animate=False)

    def _focus(self, animate: bool | None = None) -> None:
        units = self.replica.units
        if units is None:
            return
        street = next((s for s in units.streets if s.code == self.street), None)
        rings = street.polygon if street is not None else units.outline
        if rings:
            self.map.focus(bounds(rings), self.animate if animate is None else animate)

    def refresh_overdue(self) -> None:
        """Recolour the grids whose cases went overdue since the last look."""
        batch = self.feed.refresh_overdue(self._clock())
        if batch:
            self.map.apply_batch(batch)


def calendar_notice(units: Reference | None, events: Iterable[Event] = ()) -> str:
    """A warning when open cases' deadlines rest on a year the working calendar only
    guesses (the rule: desktop.core.views.calendar_warning); empty otherwise."""
    warning = calendar_warning(units, events)
    if warning is None:
        return ""
    if warning.estimated:
        return QCoreApplication.translate("WallWindow", "%s年无官方日历，期限为估算") % warning.year
    return QCoreApplication.translate("WallWindow", "%s年缺日历，期限按周末推算") % warning.year


def kpi_tiles(kpi: Kpi, partial: bool = False) -> dict[str, Tile]:
    """The six KPI tiles for a scope, in the installed language; dots while partial."""
    labels = {
        "received": QCoreApplication.translate("WallWindow", "今日接报"),
        "dispatched": QCoreApplication.translate("WallWindow", "今日派遣"),
        "closed": QCoreApplication.translate("WallWindow", "今日结案"),
        "on_time": QCoreApplication.translate("WallWindow", "按期结案率"),
        "overdue": QCoreApplication.translate("WallWindow", "当前超期"),
        "handling": QCoreApplication.translate("WallWindow", "平均处置时长"),
    }
    units = {
        "": "%s",
        "minutes": QCoreApplication.translate("WallWindow", "%s 分钟"),
        "hours": QCoreApplication.translate("WallWindow", "%s 小时"),
    }
    return {
        key: Tile(labels[key], units[v.unit] % v.value, v.tone)
        for key, v in kpi_values(kpi, partial).items()
    }
