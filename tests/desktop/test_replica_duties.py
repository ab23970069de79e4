"""The replica's duties (Qt-free): a district's user holds its district's duty; a city's
user the first district's as `duty` and every district's in `duties`."""

from __future__ import annotations

from desktop.core.replica import Replica
from protocol.entities import Duty, Person, Reference
from protocol.messages import Delta, Snapshot, Units

DAGUAN, YINGJIANG = "340803", "340802"


def duty(commander: str, district: str = "", at: float = 1.0) -> Duty:
    return Duty(
        day="2026-12-04",
        commander=Person(name=commander, title="副区长"),
        roster=[],
        handover_at=at,
        district=district,
    )


def units(districts: dict[str, str]) -> Units:
    reference = Reference(
        district="340800" if districts else DAGUAN,
        district_name="安庆市" if districts else "大观区",
        outline=[],
        streets=[],
        communities=[],
        grids=[],
        departments=[],
        cameras=[],
        categories=[],
        districts=districts,
    )
    return Units(version="v", reference=reference)


def snapshot(first: Duty | None, duties: dict[str, Duty]) -> Snapshot:
    return Snapshot(
        epoch="e",
        seq=1,
        reason="initial",
        reference="v",
        events=[],
        alerts=[],
        duty=first,
        kpis={},
        duties=duties,
    )


def delta(seq: int, data: Duty) -> Delta:
    return Delta(seq=seq, action="instruct", actor="a", at=2.0, data=data)


def test_a_city_user_holds_every_district_duty_and_shows_the_first() -> None:
    replica = Replica()
    both = {DAGUAN: duty("王建国", DAGUAN), YINGJIANG: duty("孙明辉", YINGJIANG)}
    replica.apply(units({DAGUAN: "大观区", YINGJIANG: "迎江区"}))
    replica.apply(snapshot(both[DAGUAN], both))
    assert replica.duty == both[DAGUAN] and replica.duties == both

    changes = replica.apply(delta(2, duty("马卫东", YINGJIANG, at=2.0)))
    assert changes.duty and replica.duty == both[DAGUAN]
    assert replica.duties[YINGJIANG].commander.name == "马卫东"

    replica.apply(delta(3, duty("李红梅", DAGUAN, at=3.0)))
    assert replica.duty is not None and replica.duty.commander.name == "李红梅"
    assert replica.duties[DAGUAN] == replica.duty
    # A copy holds the same.
    assert replica.copy().duties == replica.duties


def test_a_district_user_holds_its_duty_only() -> None:
    replica = Replica()
    replica.apply(units({}))
    replica.apply(snapshot(None, {}))
    replica.apply(delta(2, duty("孙明辉", YINGJIANG)))
    assert replica.duty is not None and replica.duty.commander.name == "孙明辉"
    assert replica.duties == {}
    # A duty recorded before districts had their own names none: still the user's.
    replica.apply(delta(3, duty("王建国")))
    assert replica.duty is not None and replica.duty.commander.name == "王建国"


def test_a_city_wall_lists_every_district_commander(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The duty panel of a city's user: the first district's commander on the card, the
    others under 其他区县干指挥长, each instruction marked with its district."""
    from desktop.ui.panels import DutyView
    from protocol.entities import Decision
    from widgets.duty_panel import DutyPanel

    replica = Replica()
    told = Decision(at=5.0, by="孙明辉", text="滨江沿线加强巡查")
    both = {
        DAGUAN: duty("王建国", DAGUAN),
        YINGJIANG: Duty(
            day="2026-12-04",
            commander=Person(name="孙明辉", title="区委常委"),
            roster=[],
            handover_at=1.0,
            instructions=[told],
            district=YINGJIANG,
        ),
    }
    replica.apply(units({DAGUAN: "大观区", YINGJIANG: "迎江区"}))
    replica.apply(snapshot(both[DAGUAN], both))
    panel = DutyPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    view = DutyView(replica, panel, clock=lambda: 10.0)
    view.show()
    texts = panel.texts()
    assert "王建国" in texts and "其他区县干指挥长" in texts and "孙明辉" in texts
    assert any("大观区" in t for t in texts)
    assert "【迎江区】滨江沿线加强巡查" in "".join(texts), texts
    assert not panel.clashes()


def test_a_copy_holds_everything_the_replica_holds() -> None:
    """复盘 sets the live state aside in a copy and puts it back with take_state: whatever
    the replica holds comes back (the no-writer notice did not: found in review)."""
    replica = Replica()
    replica.apply(units({}))
    replica.apply(snapshot(duty("李红梅", DAGUAN), {}))
    replica.no_writer = replica.kpis_partial = True
    copy = replica.copy()
    held = {name: value for name, value in vars(replica).items() if not callable(value)}
    assert held and {name: getattr(copy, name) for name in held} == held
    back = Replica()
    back.take_state(copy)
    assert {name: getattr(back, name) for name in held} == held
