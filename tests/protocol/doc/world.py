"""The morning of docs/protocol.md's example session, rebuilt: a real backend on a real
SQLite file with the demo district, the demo users, and Sunday 2026-11-22 up to 10:53.

The document's session was captured from `dispatch demo` (the simulator running). Here the
day is laid down by hand through the backend's writer, so that what the document shows of
it exists with the same ids: 289 events (event 1 in 龙山路街道; event 261 confirmed from
camera alert 28 and handled by 网格员 冯华), 100 camera alerts (alert 14 dismissed), some
cases taken round the whole loop (for the KPIs), and the duty handed over at 08:30. The
clock is pinned to that morning, so deadlines come out as in the document.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.app import load_reference
from dispatch.cli import DEMO_NAMES, DEMO_USERS
from dispatch.clock import Clock
from dispatch.domain.snapshots import render_alert_snapshot
from dispatch.reference import CST, ReferenceData
from dispatch.server import DispatchServer, Limits
from dispatch.state import Actor, State
from dispatch.store.store import Image, Store
from dispatch.writer import Answer, CallRequest, CommandRequest, DetectRequest, Request
from protocol import commands as c
from protocol.entities import Event, Person
from tests.dispatch.conftest import prepared_store

MIDNIGHT = 1795276800.0  # Sunday 2026-11-22 00:00 CST
NOW = 1795316023.5  # 10:53:43.5, just before the session's hello
LINGHU = "340803004"
LONGSHAN = "340803003"  # 龙山路街道: event 1 and alert 1, outside 菱湖街道
JIXIAN = "340803005"  # 集贤路街道
YULIN = "340803002"  # 玉琳路街道
ROSTER = [
    Person(name="冯涛", title="视频巡查员", post="区联动中心", phone="15965614129"),
    Person(name="赵磊", title="值班长", post="区联动中心", phone="13855612784"),
    Person(name="孙丽", title="调度员", post="区联动中心", phone="18956013372"),
    Person(name="郑雪", title="12345 受理员", post="区联动中心", phone="15305562218"),
]
PATROL = Actor("区联动中心 视频巡查", "dispatcher")
INTAKE = Actor("区联动中心 赵磊", "dispatcher")

_references: dict[str, ReferenceData] = {}


@dataclass
class World:
    """A running backend with the example's morning and the demo users' tokens."""

    server: DispatchServer
    store: Store
    port: int
    tokens: dict[str, str]
    reference: ReferenceData
    handling: int  # a case of 集贤路街道 being handled, for the "simulator"
    accepted: int  # a case of 玉琳路街道 waiting for dispatch, for the "simulator"

    def events_of(self) -> tuple[Event, Event]:
        """The cases the "simulator" moves on: the one handled, the one dispatched."""
        hub = self.server.hub
        assert hub is not None
        return hub.events[self.handling], hub.events[self.accepted]

    def spare_detection(self, n: int, score: float) -> DetectRequest:
        """A detection now by a camera of 龙山路街道 that the morning did not use."""
        cams = [c for c in self.reference.cameras.values() if c.street == LONGSHAN and c.kinds]
        cam = cams[20 + n]
        now = self.server.clock.now()
        return detection(cam.code, cam.kinds[0], score, now, 9000 + n, self.reference)

    async def submit(self, *requests: Request) -> list[Answer]:
        """Apply requests through the writer (as the simulator does); all must succeed."""
        answers = await asyncio.gather(*(self.server.submit(r) for r in requests))
        failed = [a for a in answers if not a.ok]
        assert not failed, failed
        return list(answers)


def reference(store: Store) -> ReferenceData:
    """The demo district's reference as of the example's day (the calendar status in the
    units depends on the date), built once per test run."""
    if "ref" not in _references:
        _references["ref"] = load_reference(store, now=MIDNIGHT)
    return _references["ref"]


def staff(ref: ReferenceData, street: str) -> Actor:
    """A street sub-centre, as the simulator names it."""
    return Actor(f"{ref.streets[street].name}分中心", "street", frozenset({street}))


def worker(ref: ReferenceData, grid: str) -> Actor:
    """A grid's worker, as the simulator names him."""
    return Actor(f"网格员 {ref.grids[grid].worker}", "street", frozenset({ref.grids[grid].street}))


def command(actor: Actor, op: str, args: Any, at: float) -> CommandRequest:
    """A command as the simulator sends it: no command_id, stamped with its time."""
    return CommandRequest(actor, op, args, at=at)


def detection(
    camera: str, kind: str, score: float, at: float, seed: int, ref: ReferenceData
) -> DetectRequest:
    """A camera detection with its snapshot image, as the simulator makes one."""
    cam = ref.cameras[camera]
    name = ref.reference.detections[kind]
    image = render_alert_snapshot(cam.name, name, score, datetime.fromtimestamp(at, CST), seed)
    return DetectRequest(camera, kind, score, Image("image/svg+xml", image), at=at)


def loop_round(ref: ReferenceData, event: int, grid: str, at: float, upto: str) -> list[Request]:
    """A case's steps from accept up to `upto`, by its street and its grid worker."""
    street = staff(ref, ref.grids[grid].street)
    hand = worker(ref, grid)
    steps = [
        ("accept", street, c.EventRef(event=event)),
        ("dispatch", street, c.Dispatch(event=event, assignee=hand.name)),
        ("start", hand, c.EventRef(event=event)),
        ("handled", hand, c.EventRef(event=event, note="已处置完毕。")),
        ("verify", street, c.Verify(event=event, passed=True)),
        ("close", street, c.EventRef(event=event)),
    ]
    names = [op for op, _, _ in steps]
    return [
        command(actor, op, args, at + 240 * (n + 1))
        for n, (op, actor, args) in enumerate(steps[: names.index(upto) + 1])
    ]


async def start_world(db_url: str) -> World:
    """Prepare the database, start the backend and lay down the morning."""
    store = prepared_store(db_url)
    store.set_meta("district", "340803")
    store.set_meta("district_name", "大观区")
    tokens = {
        name: store.create_user(
            name,
            role,
            *((), codes) if role == "community" else (codes,),
            display_name=DEMO_NAMES[name],  # as `dispatch demo` names them
        )
        for name, role, codes in DEMO_USERS
    }
    ref = reference(store)
    server = DispatchServer(store, ref, Clock(start=NOW), Limits())
    port = await server.start("127.0.0.1", 0)
    world = World(server, store, port, tokens, ref, 0, 0)
    await lay_down(world)
    # The document shows a server in its steady state: its KPI books filled (after a start
    # they are counted in a thread, once a first snapshot is out or a second has passed).
    assert server.hub is not None
    await asyncio.wait_for(server.hub.kpis_filled.wait(), 10)
    await server.hub.refresh_kpis(server.clock.now())
    return world


def _report(ref: ReferenceData, grid: str, category: str, at: float, n: int) -> CommandRequest:
    unit = ref.grids[grid]
    name = ref.categories[category].name
    place = unit.name.split("第")[0]
    args = c.Report(
        category=category,
        title=f"{place}{name}",
        lon=unit.centre[0],
        lat=unit.centre[1],
        source="patrol" if n % 3 else "hotline",
        description=f"网格员巡查发现：{place}附近存在{name}问题，请尽快处置。",
        address=unit.name,
        reporter=f"网格员 {unit.worker}",
    )
    return command(INTAKE, "report", args, at)


async def lay_down(world: World) -> None:
    """Events 1-289, alerts 1-100, some closed cases, the duty: ids as in the document."""
    ref = world.reference
    streets = [LONGSHAN, *(s for s in ref.streets if s != LONGSHAN)]
    grids = {s: [g.code for g in ref.grids.values() if g.street == s][:12] for s in streets}
    grids[LINGHU] = [g.code for g in ref.grids.values() if g.community == f"{LINGHU}001"]
    categories = ["01-02", "01-04", "01-06", "05-05", "05-06", "01-10", "05-07"]
    cameras = {s: [c for c in ref.cameras.values() if c.street == s and c.kinds] for s in streets}
    reserved = {"34080300001320001268", "34080300001320001395"}

    # Events 1-260 (00:10-03:26), every ninth taken round the loop; alerts 1-27 meanwhile.
    placed: dict[int, str] = {}
    requests: list[Request] = []
    for n in range(1, 261):
        street = streets[(n - 1) % len(streets)]
        grid = grids[street][(n - 1) // len(streets) % len(grids[street])]
        placed[n] = grid
        requests.append(
            _report(ref, grid, categories[n % len(categories)], MIDNIGHT + 600 + 45 * n, n)
        )
    await world.submit(*requests)
    rounds: list[Request] = []
    for n in range(1, 250, 8):  # every street, and 菱湖社区 (its grids come first)
        rounds += loop_round(ref, n, placed[n], MIDNIGHT + 600 + 45 * n, "close")
    jixian = next(n for n in range(250, 261) if ref.grids[placed[n]].street == JIXIAN)
    yulin = next(n for n in range(250, 261) if ref.grids[placed[n]].street == YULIN)
    rounds += loop_round(ref, jixian, placed[jixian], MIDNIGHT + 600 + 45 * jixian, "start")
    rounds += loop_round(ref, yulin, placed[yulin], MIDNIGHT + 600 + 45 * yulin, "accept")
    world.handling, world.accepted = jixian, yulin
    await world.submit(*rounds)

    seeds = itertools.count(7001)
    others = itertools.cycle(
        [cam for s in streets for cam in cameras[s][:12] if cam.code not in reserved]
    )

    def alert_at(at: float, camera: Any = None) -> DetectRequest:
        cam = camera or next(others)
        return detection(cam.code, cam.kinds[0], 0.8, at, next(seeds), ref)

    alerts: list[Request] = [alert_at(MIDNIGHT + 400, cameras[LONGSHAN][0])]  # alert 1
    alerts += [alert_at(MIDNIGHT + 400 * i) for i in range(2, 14)]
    await world.submit(*alerts)
    # Alert 14, dismissed by the video patrol.
    await world.submit(
        detection("34080300001320001395", "street_vending", 0.836, 1795282985.6516647, 14, ref)
    )
    await world.submit(
        command(PATROL, "dismiss_alert", c.DismissAlert(alert=14), 1795283693.7325907)
    )
    await world.submit(*(alert_at(MIDNIGHT + 6300 + 500 * (i - 14)) for i in range(15, 28)))
    # Alert 28: two hits of a street vendor, confirmed into event 261, handled by 冯华.
    await world.submit(
        detection("34080300001320001268", "street_vending", 0.87, 1795289845.5068078, 28, ref)
    )
    await world.submit(
        detection("34080300001320001268", "street_vending", 0.8, 1795289900.25, 29, ref)
    )
    answer = await world.submit(
        command(PATROL, "confirm_alert", c.ConfirmAlert(alert=28), 1795290363.4151146)
    )
    assert answer[0].data["event"] == 261, answer
    linghu, fenghua = staff(ref, LINGHU), Actor("网格员 冯华", "street", frozenset({LINGHU}))
    await world.submit(
        command(linghu, "accept", c.EventRef(event=261), 1795290912.5),
        command(
            linghu, "dispatch", c.Dispatch(event=261, assignee="网格员 冯华"), 1795294590.954957
        ),
        command(fenghua, "start", c.EventRef(event=261), 1795296230.75),
        command(
            fenghua,
            "handled",
            c.EventRef(event=261, note="已处置完毕，附现场照片。"),
            1795311997.9985728,
        ),
    )
    # Events 262-289 (03:56-10:37) and alerts 29-100 (03:48-10:45).
    later = [
        _report(
            ref,
            grids[s][k % len(grids[s])],
            categories[k % len(categories)],
            1795290963.5 + 890 * k,
            k,
        )
        for k, s in zip(range(28), itertools.cycle(streets), strict=False)
    ]
    await world.submit(*later)
    await world.submit(*(alert_at(1795290500.0 + 350 * i) for i in range(72)))

    def handover(state: State, now: float) -> Any:
        return state.handover(
            Actor("区联动中心", "admin"),
            c.Handover(
                commander="陈晓东",
                title="区委常委、政法委书记",
                note="交接班完成，各分中心按时报送。",
            ),
            now,
            roster=ROSTER,
        )

    await world.submit(CallRequest(handover, at=1795307400.0))
