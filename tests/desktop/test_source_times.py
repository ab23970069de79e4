"""The time a camera or a sensor saw something (its own clock, docs/intake.md §5.3–5.5) is
what the wall and the desk show as when it happened, beside when it was received (real
widgets, offscreen)."""

from __future__ import annotations

from desktop.core.district_time import happened_at
from desktop.core.replica import Changes, Replica
from desktop.core.todo import Me
from desktop.ui.case_sheet import CaseSheet
from desktop.ui.desk.alerts_page import AlertsPage
from desktop.ui.models import AlertFeedModel
from desktop.ui.wall import WallWindow
from protocol.entities import Intake
from tests.desktop.test_case_sheet_intake import _event
from tests.factories import make_alert

TODAY = 1_800_000_000.0  # 2027-01-15 16:00 in the district


def test_happened_at_is_the_sources_time_when_it_said() -> None:
    assert happened_at(100.0, 160.0) == 100.0
    assert happened_at(None, 160.0) == 160.0


def test_the_wall_shows_when_the_camera_saw_it(qtbot) -> None:
    wall = WallWindow(Replica(), clock=lambda: TODAY)
    qtbot.addWidget(wall)
    wall.replica.alerts = {
        # Seen at 15:20 by the camera, received at 15:50 (a broker's backlog drained).
        1: make_alert(1, first_at=TODAY - 600, last_at=TODAY - 600, observed_at=TODAY - 2400),
        2: make_alert(2, first_at=TODAY - 900, last_at=TODAY - 900),  # no time of its own
    }
    wall.coalescer.push(Changes(reset=True, alerts={1, 2}))
    wall.coalescer.flush()
    model = wall.alert_view.model
    times = [model.data(model.index(r, 0), AlertFeedModel.TIME_ROLE) for r in range(2)]
    assert times == ["15:20", "15:45"]


def test_the_desk_shows_both_times_of_an_alert(qtbot) -> None:
    replica = Replica()
    replica.alerts = {
        1: make_alert(1, first_at=TODAY - 600, last_at=TODAY - 600, observed_at=TODAY - 2400),
        2: make_alert(2, first_at=TODAY - 60, last_at=TODAY - 60),
    }
    page = AlertsPage(replica, lambda: Me("clerk", "street"), None, lambda: TODAY)  # type: ignore[arg-type]
    qtbot.addWidget(page)
    page.apply(Changes(reset=True, alerts={1, 2}))
    page.show_alert(1)
    assert "发生于 01-15 15:20（收到 01-15 15:50）" in page.details.text()
    lines = {page.list.item(r).text() for r in range(page.list.count())}
    assert any(line.endswith("40分钟前") for line in lines), lines  # from the camera's time
    page.show_alert(2)
    assert "发生于" not in page.details.text()  # no time of its own: only the times received


def test_the_case_card_of_a_sensor_case_shows_when_it_was_measured(qtbot) -> None:
    replica = Replica()
    intake = Intake(
        channel="sensor",
        ref="GAS-0001",
        peer="sensors",
        place="point",
        confidence=1.0,
        observed_at=1_796_000_000.0 - 1800,
    )
    replica.events[7] = _event(intake)
    sheet = CaseSheet(replica, lambda: "dispatcher", None, lambda: 1_796_000_100.0)
    qtbot.addWidget(sheet)
    sheet.show_case(7)
    view = sheet.card.view()
    assert view is not None
    fields = dict(view.fields)
    assert fields["接入渠道"] == "传感器 GAS-0001"
    assert (fields["上报时间"], fields["发生时间"]) == ("11-30 08:53", "11-30 08:23")
    assert "工单编号" not in fields
