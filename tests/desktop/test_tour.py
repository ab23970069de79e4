"""The tour moves through the streets and holds on urgent events and operator input."""

from __future__ import annotations

from desktop.ui.tour import Tour


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_tour_moves_holds_and_resumes(qtbot) -> None:
    clock = FakeClock()
    tour = Tour(["A", "B", "C"], dwell=10, urgent_hold=60, idle_resume=30, clock=clock)
    seen: list[str] = []
    tour.focus.connect(seen.append)
    tour.start()
    assert seen == [""]  # the district first
    clock.now = 9
    tour.step()
    assert seen == [""]
    clock.now = 10
    tour.step()
    assert seen == ["", "A"]

    # A new urgent case in C: the focus goes there and stays for urgent_hold.
    tour.hold_on("C")
    assert seen[-1] == "C" and tour.paused and tour.reason == "urgent"
    clock.now = 60
    tour.step()
    assert seen[-1] == "C"
    clock.now = 71
    tour.step()
    assert seen[-1] == "" and not tour.paused  # the hold is over: on, round to the district
    clock.now = 81
    tour.step()
    assert seen[-1] == "A"

    # The operator uses the mouse: hold until idle for idle_resume.
    tour.operator_active()
    assert tour.reason == "operator"
    clock.now = 105
    tour.step()
    assert seen[-1] == "A"
    clock.now = 111.5
    tour.step()
    assert seen[-1] == "B"
    tour.stop()


def test_unknown_street_does_not_hold() -> None:
    clock = FakeClock()
    tour = Tour(["A"], dwell=5, clock=clock)
    tour.hold_on("Z")
    assert not tour.paused
