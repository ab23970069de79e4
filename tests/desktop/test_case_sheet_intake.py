"""The case card of a 12345 case: its work order, how its place was found and how sure,
and the triage mark (a real CaseSheet, offscreen)."""

from __future__ import annotations

from desktop.core.replica import Replica
from desktop.ui.case_sheet import CaseSheet, feedback_entry
from protocol.entities import Event, Intake
from protocol.messages import FeedbackEntry


def _event(intake: Intake) -> Event:
    return Event(
        id=7,
        code="DG-20261202-000007",
        source="hotline",
        category="06-14",
        title="石狮子被涂油漆",
        lon=117.03,
        lat=30.52,
        grid="g",
        community="c",
        street="s",
        priority=3,
        status="reported",
        level="grid",
        reported_at=1_796_000_000.0,
        updated_at=1_796_000_000.0,
        intake=intake,
    )


def test_the_card_shows_the_work_order_place_and_triage(qtbot) -> None:
    replica = Replica()
    intake = Intake(
        channel="12345",
        ref="AQ-8",
        peer="anqing12345",
        place="community",
        confidence=0.6,
        matched="菱湖社区",
        triage="其他/未分类诉求",
        deadline_at=1_797_413_400.0,
    )
    replica.events[7] = _event(intake)
    sheet = CaseSheet(replica, lambda: "dispatcher", None, lambda: 1_796_000_100.0)
    qtbot.addWidget(sheet)
    sheet.show_case(7)
    view = sheet.card.view()
    assert view is not None
    fields = dict(view.fields)
    assert fields["工单编号"] == "12345 AQ-8"
    assert fields["定位"] == "社区 0.60（菱湖社区）"
    assert fields["原诉求类型"] == "其他/未分类诉求"
    assert "办理时限" in fields
    assert "待分拨" in view.flags


def test_feedback_reads_as_a_timeline_step(qtbot) -> None:
    done = FeedbackEntry(
        at=1_796_000_000.0,
        peer="anqing12345",
        status="办结",
        state="delivered",
        attempts=1,
        delivered_at=1_796_000_001.0,
    )
    entry = feedback_entry(done)
    assert (entry.actor, entry.action_text, entry.status_text) == (
        "anqing12345",
        "反馈办结",
        "已送达",
    )
    waiting = FeedbackEntry(
        at=1_796_000_000.0,
        peer="p",
        status="签收",
        state="pending",
        attempts=3,
        error="HTTP 503: maintenance",
    )
    entry = feedback_entry(waiting)
    assert entry.status_text == "待送达（已试3次）" and entry.text == "HTTP 503: maintenance"


def test_the_card_of_an_open311_request_names_the_app_and_its_link(qtbot) -> None:
    replica = Replica()
    intake = Intake(
        channel="open311",
        ref="t-3fa9c0d1e4b2a7c9e0f1a2b3c4d5e6",
        peer="citizen-app",
        place="point",
        confidence=1.0,
        matched="坐标",
        media_url="https://example.org/p.jpg",
        attributes={"POLE": "A-17", "CALLBACK": "13812345678"},
    )
    replica.events[7] = _event(intake)
    sheet = CaseSheet(replica, lambda: "wall", None, lambda: 1_796_000_100.0)
    qtbot.addWidget(sheet)
    sheet.show_case(7)
    view = sheet.card.view()
    assert view is not None
    fields = dict(view.fields)
    assert fields["接入渠道"] == "Open311 · citizen-app" and "工单编号" not in fields
    assert fields["附件链接"] == "https://example.org/p.jpg"
    assert fields["补充信息"] == "POLE=A-17；CALLBACK=138****5678"  # masked for the wall
