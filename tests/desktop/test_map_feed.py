"""The map feed turns the replica into batches: units once, then only what changed (Qt-free)."""

from __future__ import annotations

from desktop.core.map_feed import Load, MapFeed, label_zoom, load_style
from desktop.core.replica import Changes, Replica, short_name
from protocol.entities import Community, Grid, Reference, Street
from tests.factories import make_event

SQUARE = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.51], [117.0, 30.5]]]
GRID = "340803004001001"


def replica_with_units() -> Replica:
    replica = Replica()
    replica.units = Reference(
        district="340803",
        district_name="大观区",
        outline=SQUARE,
        streets=[
            Street(
                code="340803004",
                name="菱湖街道",
                kind="街道",
                polygon=SQUARE,
                centre=[117.005, 30.505],
            )
        ],
        communities=[],
        grids=[
            Grid(
                code=GRID,
                name="第1网格",
                community="340803004001",
                street="340803004",
                polygon=SQUARE,
                centre=[117.005, 30.505],
                worker="张三",
            )
        ],
        departments=[],
        cameras=[],
        categories=[],
    )
    replica.units_version = "v1"
    return replica


def test_full_batch_then_only_changes() -> None:
    replica = replica_with_units()
    replica.events = {1: make_event(1, grid=GRID), 2: make_event(2, grid=GRID, status="closed")}
    feed = MapFeed(replica)
    full = feed.full(now=100.0)
    assert {a["id"] for a in full["areas"]} >= {GRID, "340803004", "340803"}
    assert [m["id"] for m in full["markers"]] == ["e1"]  # closed events are not on the map
    assert full["labels"][0]["text"] == "菱湖街道" and full["fit"] and full["units_reset"]
    assert full["labels"][0]["minZoom"] >= 13  # a ~1 km street waits for a close zoom
    assert feed.load_of(GRID) == Load(open=1, overdue=0)

    # A new urgent event pulses; 2 open cases shade the grid as 1 did: no area is sent.
    replica.events[3] = make_event(3, grid=GRID, priority=1)
    batch = feed.update(Changes(events={3}, new_events={3}), now=100.0)
    assert batch is not None
    assert [m["id"] for m in batch["markers"]] == ["e3"] and batch["markers"][0]["pulse"]
    assert batch["areas"] == [] and feed.load_of(GRID).open == 2
    # A third one darkens it: only then is the grid restyled (nothing else is sent).
    replica.events[6] = make_event(6, grid=GRID)
    batch = feed.update(Changes(events={6}, new_events={6}), now=100.0)
    assert batch is not None
    assert [a["id"] for a in batch["areas"]] == [GRID] and "rings" not in batch["areas"][0]
    assert batch["areas"][0]["fill"] == load_style(Load(3, 0))[0]
    replica.events[6] = make_event(6, grid=GRID, status="closed")
    feed.update(Changes(events={6}), now=100.0)

    # Closing removes the marker and lightens the grid; an overdue one turns it amber.
    replica.events[3] = make_event(3, grid=GRID, priority=1, status="closed")
    replica.events[1] = make_event(1, grid=GRID, overdue=True)
    batch = feed.update(Changes(events={1, 3}), now=100.0)
    assert batch is not None and batch["remove"] == ["e3"]
    assert feed.load_of(GRID) == Load(open=1, overdue=1)
    assert batch["areas"][0]["fill"] == load_style(Load(1, 1))[0]

    # Pruned from the replica: off the map.
    del replica.events[1]
    batch = feed.update(Changes(events={1}), now=100.0)
    assert batch is not None and batch["remove"] == ["e1"] and feed.load_of(GRID) == Load()
    assert feed.update(Changes(kpis=True), now=100.0) is None

    # A reset (a new snapshot) with the same units: state only, no units, no second labels.
    replica.events = {4: make_event(4, grid=GRID), 5: make_event(5, grid=GRID)}
    again = feed.full(now=100.0)
    assert again["labels"] == [] and sorted(m["id"] for m in again["markers"]) == ["e4", "e5"]
    assert all("rings" not in a for a in again["areas"]) and "units_reset" not in again
    # Another reset in which 5 came back closed (it closed while the link was down): its
    # marker goes although the event is still in the replica.
    replica.events[5] = make_event(5, grid=GRID, status="closed")
    again = feed.full(now=100.0)
    assert again["remove"] == ["e5"] and [m["id"] for m in again["markers"]] == ["e4"]
    # New units (another version): sent again, flagged so the page drops the old ones.
    replica.units_version = "v2"
    assert feed.full(now=100.0)["units_reset"] is True


def test_deadlines_passing_are_noticed_without_a_delta() -> None:
    replica = replica_with_units()
    replica.events = {1: make_event(1, grid=GRID, due_at=150.0)}
    feed = MapFeed(replica)
    feed.full(now=100.0)
    assert feed.refresh_overdue(now=120.0) is None
    batch = feed.refresh_overdue(now=200.0)
    assert batch is not None and batch["markers"][0]["stroke"] == "#ff4d4f"
    assert feed.load_of(GRID).overdue == 1


def test_a_label_waits_for_the_zoom_at_which_it_fits() -> None:
    small = [[117.0, 30.5], [117.01, 30.51]]  # ~1 km wide
    large = [[116.8, 30.4], [117.1, 30.7]]
    assert label_zoom(small, 4) > label_zoom(large, 4)
    assert label_zoom(small, 4) >= 13
    # Before the full name fits, the short one may: a crowded street is still named.
    assert short_name("菱湖街道") == "菱湖" and short_name("海口镇") == "海口"
    assert short_name("十里铺乡") == "十里铺" and short_name("某镇") == "某镇"
    assert label_zoom(small, len("菱湖")) < label_zoom(small, len("菱湖街道"))
    label = MapFeed(replica_with_units()).full(now=0.0)["labels"][0]
    assert label["short"] == "菱湖" and label["shortZoom"] <= label["minZoom"]


def test_a_reloaded_page_gets_the_units_again() -> None:
    replica = replica_with_units()
    feed = MapFeed(replica)
    assert feed.full(now=0.0).get("units_reset")
    assert not feed.full(now=0.0).get("units_reset")
    feed.page_lost()
    assert feed.full(now=0.0).get("units_reset")


def test_frames_are_collected_and_sent_as_one_batch() -> None:
    # The window collects every frame and sends a batch every 400 ms: what changed in
    # between arrives once, in its last state.
    replica = replica_with_units()
    replica.events = {1: make_event(1, grid=GRID)}
    feed = MapFeed(replica)
    feed.full(now=100.0)

    replica.events[2] = make_event(2, grid=GRID, priority=1)
    feed.collect(Changes(events={2}, new_events={2}), now=100.0)
    replica.events[2] = make_event(2, grid=GRID, priority=1, status="accepted")
    feed.collect(Changes(events={2}), now=100.0)
    replica.events[1] = make_event(1, grid=GRID, status="closed")
    feed.collect(Changes(events={1}), now=100.0)
    assert feed.load_of(GRID) == Load(open=1, overdue=0)  # accounted at once

    batch = feed.take(now=100.0)
    assert batch is not None
    assert [m["id"] for m in batch["markers"]] == ["e2"]
    assert batch["markers"][0]["pulse"] is True  # still new to the page
    assert batch["markers"][0]["stroke"] == "#ffffff"  # waiting: the latest state
    assert batch["remove"] == ["e1"]
    assert batch["areas"] == []  # one open case before and after: the same shade
    assert feed.take(now=100.0) is None  # nothing new since

    # Opened and closed between two batches: the page never hears of it but to remove it.
    replica.events[3] = make_event(3, grid=GRID)
    feed.collect(Changes(events={3}, new_events={3}), now=100.0)
    replica.events[3] = make_event(3, grid=GRID, status="closed")
    feed.collect(Changes(events={3}), now=100.0)
    batch = feed.take(now=100.0)
    assert batch is not None and batch["markers"] == [] and batch["remove"] == ["e3"]

    # A snapshot in between: the next batch is the whole state.
    feed.collect(Changes(events={2}), now=100.0)
    feed.collect(Changes(reset=True, events={1, 2, 3}), now=100.0)
    whole = feed.take(now=100.0)
    assert whole is not None and [m["id"] for m in whole["markers"]] == ["e2"]
    assert feed.take(now=100.0) is None


def test_a_snapshot_after_collected_removals_still_removes_them() -> None:
    # Closed, then a snapshot before the batch went out: the page still shows the marker, so
    # the whole-state batch has to take it off (it is no longer open in the feed's books).
    replica = replica_with_units()
    replica.events = {1: make_event(1, grid=GRID), 2: make_event(2, grid=GRID)}
    feed = MapFeed(replica)
    feed.full(now=100.0)

    replica.events[1] = make_event(1, grid=GRID, status="closed")
    feed.collect(Changes(events={1}), now=100.0)
    del replica.events[2]  # pruned, then the snapshot arrives
    feed.collect(Changes(events={2}), now=100.0)
    feed.collect(Changes(reset=True, events=set(replica.events)), now=100.0)
    # Changes after the snapshot, before the batch: the whole state covers them.
    replica.events[3] = make_event(3, grid=GRID)
    replica.events[1] = make_event(1, grid=GRID, status="closed")
    feed.collect(Changes(events={1, 3}, new_events={3}), now=100.0)

    whole = feed.take(now=100.0)
    assert whole is not None
    assert sorted(whole["remove"]) == ["e1", "e2"]
    assert [m["id"] for m in whole["markers"]] == ["e3"]
    assert feed.load_of(GRID) == Load(open=1, overdue=0)


def with_one_grid(replica: Replica, community: str, grid: str, version: str) -> None:
    """Units of one community and one grid (code GRID) under these names."""
    assert replica.units is not None
    street, centre = replica.units.grids[0].street, [117.005, 30.505]
    code = "340803004001"
    replica.units.communities = [
        Community(code=code, name=community, street=street, polygon=SQUARE, centre=centre)
    ]
    replica.units.grids = [
        Grid(code=GRID, name=grid, community=code, street=street, polygon=SQUARE, centre=centre)
    ]
    replica.units_version = version


def test_grid_names_have_shorter_forms_for_narrow_columns() -> None:
    replica = replica_with_units()
    with_one_grid(replica, "华茂社区", "华茂社区第3网格", "v2")
    # Shorter, still a whole name; narrower, cut with "…" before the grid's number, never
    # after it (华茂第3 would read as a name of its own).
    assert replica.grid_short_forms() == {GRID: ("华茂第3网格", "华…第3网格")}
    with_one_grid(replica, "海口村", "海口村第1网格", "v3")  # a village keeps its 村
    assert replica.grid_short_forms() == {GRID: ("海口…第1网格", "海…第1网格")}


def test_labels_are_plain_text_with_phone_numbers_masked_and_markers_name_their_case() -> None:
    from desktop.core.map_feed import marker_event

    replica = replica_with_units()
    replica.events = {7: make_event(7, grid=GRID, title="<b>王先生</b> 13812345678 反映")}
    full = MapFeed(replica).full(now=100.0)
    grid = next(a for a in full["areas"] if a["id"] == GRID)
    assert grid["label"] == "第1网格\n张三"  # a line break for the page to keep, not "<br>"
    marker = full["markers"][0]
    assert marker["label"] == "DG-20261122-000007 <b>王先生</b> 138****5678 反映"  # as text
    assert marker_event(marker["id"]) == 7
    assert marker_event("c34080300001320000002") is None and marker_event("e") is None


def test_the_wall_holds_the_cases_back_while_the_backend_catches_up() -> None:
    """A part of the day (the backend replaying it after a start) is not the day: the wall's
    feed sends the units alone (no case, no shade) and nothing more until the day is whole,
    then everything; a desk's feed (no hold) sends what there is."""
    replica = replica_with_units()
    replica.epoch, replica.kpis_partial = "e1", True
    replica.events = {1: make_event(1, grid=GRID), 2: make_event(2, grid=GRID)}
    assert replica.syncing
    wall, desk = MapFeed(replica, hold=True), MapFeed(replica)
    held = wall.full(now=100.0)
    assert held["units_reset"] and {a["id"] for a in held["areas"]} >= {GRID, "340803"}
    assert held["markers"] == [] and held["remove"] == []
    shades = [a for a in held["areas"] if a["id"] == GRID and "rings" not in a]
    # The grid's shade: as if it had no case.
    assert [(a["fill"], a["opacity"]) for a in shades] == [load_style(Load())]
    assert wall.load_of(GRID) == Load() and not wall.whole_sent
    assert [m["id"] for m in desk.full(now=100.0)["markers"]] == ["e1", "e2"]
    # More of the replay: nothing goes to the wall's page meanwhile.
    replica.events[3] = make_event(3, grid=GRID, priority=1)
    assert wall.update(Changes(events={3}, new_events={3}), now=101.0) is None
    # Caught up (the next KPI push says so): the whole state, once, and at once (the map
    # panel flushes its pump on held_until_whole rather than wait up to a second).
    assert not wall.held_until_whole
    replica.kpis_partial = False
    assert wall.held_until_whole
    whole = wall.update(Changes(kpis=True), now=102.0)
    assert not wall.held_until_whole
    assert whole is not None and "units_reset" not in whole  # the page kept the units
    assert sorted(m["id"] for m in whole["markers"]) == ["e1", "e2", "e3"]
    assert wall.load_of(GRID) == Load(open=3) and wall.whole_sent
    assert wall.update(Changes(kpis=True), now=103.0) is None
