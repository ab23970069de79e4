"""District traffic that looks like a real day, fed through the same workflow as real users.

Arrivals follow a daily curve; sources mix hotline, patrol, citizen photos and cameras;
category frequencies follow the category table's weights; simulated sub-centre staff and grid
workers move each event round the loop with realistic delays (some late, some reworked,
some escalated); cameras send bursts; the duty changes every morning. Seeded: the same seed
gives the same day. `warm_up` replays today from midnight at full speed before going live
(on a fresh database from yesterday's midnight, so there is a day to compare with).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
import math
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec

from dispatch.domain.categories import CAMERA_KINDS, Category, load_categories
from dispatch.domain.snapshots import render_alert_snapshot
from dispatch.jurisdiction import DISTRICT_WIDTH
from dispatch.kpi import day_start
from dispatch.reference import local
from dispatch.server import DispatchServer
from dispatch.state import Actor
from dispatch.store.store import Image
from dispatch.writer import Answer, CallRequest, CommandRequest, DetectRequest, Request, TickRequest
from protocol import commands as c
from protocol.entities import OPEN_STATUSES, DutyPlan, Event, Grid, Person, on_hold

if TYPE_CHECKING:  # the demo's stand-ins (httpx and their servers) load after the catch-up
    from dispatch.intake.citizen_app import CitizenApp
    from dispatch.intake.mqtt.demo import DemoPublisher
    from dispatch.intake.platform import FakePlatform

log = logging.getLogger("dispatch.simulator")

# Relative arrival intensity by local hour: quiet nights, a morning peak, an afternoon peak.
HOURLY_CURVE = (
    0.15,
    0.10,
    0.08,
    0.08,
    0.10,
    0.20,
    0.45,
    0.90,
    1.40,
    1.70,
    1.70,
    1.50,
    1.10,
    1.20,
    1.50,
    1.60,
    1.50,
    1.30,
    1.00,
    0.80,
    0.60,
    0.45,
    0.30,
    0.20,
)
_CURVE_MEAN = sum(HOURLY_CURVE) / 24
SOURCES = (("hotline", 0.40), ("patrol", 0.38), ("citizen", 0.18), ("sensor", 0.04))
# The sensor categories the MQTT intake's rules make (dispatch/intake/mqtt/settings.py),
# with an alarming and a normal reading of each kind.
SENSOR_KINDS = {
    "20-01": "water",
    "20-03": "hydrant",
    "20-04": "elevator",
    "20-06": "ebike",
    "20-08": "gas",
}
SENSOR_VALUES = {
    "water": (0.0, 0.12),
    "hydrant": (0.08, 0.3),
    "elevator": (2.0, 0.0),
    "ebike": (420.0, 0.0),
    "gas": (35.0, 2.0),
}
MINUTE = 60.0
HOUR = 3600.0
# Shares of cases that run late at a stage, fail verification: shaped so that 93-99 % close
# on time, as real centres report (福州 2022 Q2: 99.88 %; ../shared/domain/kpis.md).
LATE_ODDS = 0.006
HANDLE_LATE_ODDS = 0.02
REWORK_ODDS = 0.01
RETURN_ODDS = 0.025  # a department sends a case back as not its remit (退单)
ASSIST_ODDS = 0.08  # a department case needs an assisting unit (主协办)
HOLD_ODDS = 0.004  # a long case waits on something beyond the centre (挂账)
EXTENSION_ODDS = 0.6  # of the cases about to run late, those whose handler asks in time

COMMANDERS = (
    ("王建国", "区委常委、常务副区长"),
    ("李红梅", "区委常委、组织部部长"),
    ("张志强", "副区长"),
    ("陈晓东", "区委常委、政法委书记"),
    ("刘海涛", "副区长"),
    ("周文静", "区人大常委会副主任"),
    ("吴国平", "区政协副主席"),
)
DUTY_STAFF = (
    ("赵磊", "值班长"),
    ("孙丽", "调度员"),
    ("钱峰", "调度员"),
    ("郑雪", "12345 受理员"),
    ("冯涛", "视频巡查员"),
    ("何静", "视频巡查员"),
)
# A city's other districts have centres and commanders of their own (fictitious too).
OTHER_COMMANDERS = (
    ("孙明辉", "区委常委、常务副区长"),
    ("黄丽君", "区委常委、宣传部部长"),
    ("马卫东", "副区长"),
    ("朱永胜", "区委常委、政法委书记"),
    ("胡晓燕", "副区长"),
)
OTHER_DUTY_STAFF = (
    ("郭亮", "值班长"),
    ("林芳", "调度员"),
    ("罗斌", "调度员"),
    ("高敏", "12345 受理员"),
    ("徐超", "视频巡查员"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
HOTLINE_PHRASES = ("市民来电反映", "市民通过12345热线反映", "群众来电称")
CITIZEN_PHRASES = ("市民随手拍上报", "群众通过“皖事通”随手拍反映")
PATROL_PHRASES = ("网格员巡查发现", "网格员日常巡查中发现")


@dataclass(order=True)
class _Due:
    at: float
    order: int
    action: Callable[[float], None] = field(compare=False)


class Simulator:
    """Drives a DispatchServer with a simulated district's day."""

    def __init__(
        self,
        server: DispatchServer,
        *,
        seed: int = 20261122,
        daily_events: int = 720,
        daily_alerts: int = 260,
        hotline: FakePlatform | None = None,
        mqtt: DemoPublisher | None = None,
        history_days: int = 1,
    ) -> None:
        self.server = server
        # Days replayed before today on a fresh database (a day to compare with; benches
        # make weeks of history this way: `python -m bench risk`).
        self.history_days = history_days
        # Once live, 12345 calls arrive as the platform pushes them: signed, over HTTP, through
        # the intake endpoint (the replay of the day so far goes straight to the writer: its
        # events carry past times, which an HTTP push cannot).
        self.hotline = hotline
        self.pushed = 0  # 12345 work orders pushed and taken
        self.reported_by_app = 0  # citizen reports sent through Open311 and taken
        self._pushes: set[asyncio.Task[None]] = set()
        # Live (after the catch-up) camera detections and sensor alarms go through MQTT to
        # the backend's intake when given (the catch-up's stamped past times cannot).
        self.mqtt = mqtt
        self.open311: CitizenApp | None = None  # live citizen reports go through Open311
        self.reference = server.reference
        self.seed = seed
        self.rng = random.Random(seed)
        self._event_rngs: dict[int, random.Random] = {}
        self._side_rng = random.Random(seed + 1)  # for choices that depend on live state
        self.grids: list[Grid] = list(self.reference.grids.values())
        # A city store: each district has a district's day of its own, in its own units
        # (the grids' codes begin with their district's adcode).
        self.districts = sorted({g.code[:DISTRICT_WIDTH] for g in self.grids})
        # The store's districts, its first first (whose duty rota is 大观区's).
        self.districts_first = [d for d in self.reference.districts if d in self.districts]
        self.daily_events = daily_events * len(self.districts)
        self.daily_alerts = daily_alerts * len(self.districts)
        self.categories: list[Category] = [
            k for k in load_categories() if k.code in self.reference.categories
        ]
        # Dense urban grids (small ones) see more cases per grid than large rural ones.
        self.grid_weights = [1.0 / math.sqrt(max(_area(g), 1e-7)) for g in self.grids]
        if len(self.districts) > 1:  # every district the same share, whatever its grids
            totals: dict[str, float] = {}
            for g, w in zip(self.grids, self.grid_weights, strict=True):
                totals[g.code[:DISTRICT_WIDTH]] = totals.get(g.code[:DISTRICT_WIDTH], 0.0) + w
            self.grid_weights = [
                w / totals[g.code[:DISTRICT_WIDTH]]
                for g, w in zip(self.grids, self.grid_weights, strict=True)
            ]
        self.cameras = list(self.reference.cameras.values())
        self._heap: list[_Due] = []
        self._order = itertools.count()
        self._inflight: set[asyncio.Future[Answer]] = set()
        self.submitted = 0
        self.warmed_up = False
        self.live = asyncio.Event()  # set with warmed_up: caught up, following the clock

    # ---- scheduling ------------------------------------------------------------------------

    def at(self, when: float, action: Callable[[float], None]) -> None:
        """Run `action(when)` at district time `when`."""
        heapq.heappush(self._heap, _Due(when, next(self._order), action))

    def _submit(self, request: Request, then: Callable[[Answer], None] | None = None) -> None:
        future = self.server.submit(request)
        self.submitted += 1
        self._inflight.add(future)

        def done(f: asyncio.Future[Answer]) -> None:
            self._inflight.discard(f)
            if then is not None and not f.cancelled():
                answer = f.result()
                if answer.ok:
                    then(answer)

        future.add_done_callback(done)

    def _command(
        self,
        actor: Actor,
        op: str,
        args: msgspec.Struct,
        when: float,
        then: Callable[[Answer], None] | None = None,
    ) -> None:
        assert isinstance(args, c.ARGS[op])
        self._submit(CommandRequest(actor, op, args, at=when), then)

    def _act(
        self,
        actor: Actor,
        op: str,
        args: msgspec.Struct,
        then: Callable[[float], None] | None = None,
    ) -> Callable[[float], None]:
        """An action that issues one command at the time it runs (then `then(that time)`).

        Follow-ups are scheduled with this rather than stamped ahead of the clock: a log
        row from the future would make a restart think the day had got further than it had.
        """
        if then is None:
            return lambda t: self._command(actor, op, args, t)
        return lambda t: self._command(actor, op, args, t, lambda _: then(t))

    async def run(self, warm_up: bool = True) -> None:
        """Run for ever: replay today so far at full speed (if asked), then follow the clock.
        On a standby, from when it takes over (only a writer applies requests)."""
        if not self.server.writing.is_set():
            log.info("the simulator waits for this node to write (a standby: its takeover)")
            await self.server.writing.wait()
            log.info("this node writes: the simulator starts")
        clock = self.server.clock
        now = clock.now()
        start = day_start(now) if warm_up else now
        # A restart on a database that already holds today replays only the gap since its
        # last activity (replaying from midnight again would double the day).
        # That activity may be yesterday's: a backend stopped while replaying yesterday (a
        # fresh database's catch-up starts there) and started again after midnight.
        latest = max((e.updated_at for e in self.server.state.events.values()), default=0.0)
        resumed = warm_up and latest > start - 24 * HOUR
        if resumed:
            # (Some follow-ups are stamped a little ahead of the clock: never past now.)
            start = min(latest, now)
            log.info("simulator resumes the day from its last activity (%s)", local(latest))
            # Seeded afresh from where it resumes: the seed alone replayed the same cases
            # after every restart or takeover (one citizen's same complaint each time).
            self.rng.seed(f"{self.seed}:{start!r}")
            self._side_rng.seed(f"{self.seed + 1}:{start!r}")
        elif warm_up and not self.server.state.events:
            # A fresh database: yesterday too, so today's figures have a day to compare with.
            start -= self.history_days * 24 * HOUR
        self._schedule_day(start, first=True)
        # The cases that were open when the backend stopped: their staff pick them up again
        # (their next steps lived in the stopped process's memory).
        for event in sorted(self.server.state.events.values(), key=lambda e: e.id):
            if event.status in OPEN_STATUSES and not on_hold(event):
                self.at(start, functools.partial(self._resume_case, event.id))
        # After a restart the first arrival comes after `start`, as every later one does: one
        # *at* `start`, the last activity, added the seed's first case again on every restart.
        first = start + self.rng.expovariate(self._rate(start)) if resumed else start
        self.at(first, self._arrival)
        self.at(start + self.rng.expovariate(self._alert_rate(start)), self._camera_burst)
        self.at(start + 30 * MINUTE, self._supervision_round)
        if warm_up:
            self.server.ticking = False
            self.server.begin_catching_up()
            self.at(start + 5 * MINUTE, self._tick)
        processed = 0
        while True:
            now = clock.now()
            if self._heap and self._heap[0].at <= now:
                if self._heap[0].action == self._tick and self._inflight:
                    # Replaying at full speed, the clock's check must not overtake the
                    # answers still on their way: their follow-ups (a dispatch after an
                    # accept...) may come before it, and would be judged late if it ran now.
                    await asyncio.wait(set(self._inflight), timeout=5.0)
                    continue
                due = heapq.heappop(self._heap)
                due.action(due.at)
                processed += 1
                if processed % 100 == 0:
                    await asyncio.sleep(0)  # let the answers come back between bursts
                continue
            if not self.warmed_up:
                if self._inflight:
                    await asyncio.wait(set(self._inflight), timeout=1.0)
                    continue
                self.server.ticking = True
                # Every change of the replay is delivered: the KPIs become whole and say so
                # in one push, before anyone hears that the simulator has caught up.
                await self.server.caught_up()
                self.warmed_up = True
                self.live.set()
                log.info("simulator caught up with the clock after %d actions", processed)
            delay = clock.real_delay(self._heap[0].at - now) if self._heap else 1.0
            await asyncio.sleep(min(delay, 1.0))

    # ---- the day's rhythm ------------------------------------------------------------------

    def _tick(self, when: float) -> None:
        if not self.warmed_up:
            self._submit(TickRequest(at=when))
            self.at(when + 5 * MINUTE, self._tick)

    def _schedule_day(self, start: float, first: bool = False) -> None:
        hub = self.server.hub
        if hub is not None:
            # The generators of cases the backend has let go of (settled 36 h ago): a day's
            # worth more each day otherwise. One that acts again (a return visit) starts a
            # fresh generator from its seed.
            self._event_rngs = {e: r for e, r in self._event_rngs.items() if e in hub.events}
        handover = day_start(start) + 8.5 * HOUR
        for index, district in enumerate(self.districts_first):
            duty = self.server.state.duties.get(district)
            if first and start < handover:
                # The duty in force before 08:30 is yesterday's commander's (unless on record).
                yesterday = local(day_start(start) - 12 * HOUR).strftime("%Y-%m-%d")
                if duty is None or duty.day != yesterday:
                    self._handover(
                        day_start(start) - 24 * HOUR + 8.5 * HOUR, index, district, when=start
                    )
            if first and start >= handover:
                # A restart after today's handover: keep the duty on record if it is today's.
                if duty is None or duty.day != local(start).strftime("%Y-%m-%d"):
                    self._handover(handover, index, district, when=start)
            else:
                self.at(handover, functools.partial(self._handover, index=index, district=district))
        self.at(day_start(start) + 24 * HOUR, lambda t: self._schedule_day(t))

    def _handover(
        self, duty_time: float, index: int, district: str, when: float | None = None
    ) -> None:
        """Each morning a district's centre hands its duty to the day's commander (`index`:
        the district's place in the store, the first's people being 大观区's)."""
        day_index = int(duty_time // (24 * HOUR))
        commanders, staff = (
            (COMMANDERS, DUTY_STAFF) if index == 0 else (OTHER_COMMANDERS, OTHER_DUTY_STAFF)
        )
        name, title = commanders[(day_index + index) % len(commanders)]
        roster = [
            Person(name=n, title=t, post="区联动中心", phone=_phone(self.rng))
            for n, t in self.rng.sample(staff, 4)
        ]
        actor = Actor("区联动中心", "admin")

        def apply(state: object, now: float) -> object:
            from dispatch.state import State

            assert isinstance(state, State)
            # A day an admin planned (排班) is handed to its commander and roster.
            plan = state.plan_of(district, local(now).strftime("%Y-%m-%d"))
            commander, rank = (plan.commander.name, plan.commander.title) if plan else (name, title)
            return state.handover(
                actor,
                c.Handover(
                    commander=commander,
                    title=rank or "县干指挥长",
                    note="交接班完成，各分中心按时报送。",
                    district=district,
                ),
                now,
                roster=None if plan else roster,
            )

        self._submit(
            CallRequest(
                apply,  # type: ignore[arg-type]
                at=when if when is not None else duty_time,
            )
        )

    def _rate(self, when: float) -> float:
        hour = local(when).hour
        return self.daily_events / 86400 * HOURLY_CURVE[hour] / _CURVE_MEAN

    def _alert_rate(self, when: float) -> float:
        hour = local(when).hour
        return self.daily_alerts / 86400 * (0.5 + HOURLY_CURVE[hour] / _CURVE_MEAN / 2)

    # ---- events ----------------------------------------------------------------------------

    def _arrival(self, when: float) -> None:
        self._new_event(when)
        self.at(when + self.rng.expovariate(self._rate(when)), self._arrival)

    def _pick_category(self, source: str) -> Category:
        # Only what arrives through this channel: a sensor reports its own scenes, never
        # 私搭乱建, and a patrol does not find a policy question.
        candidates = [k for k in self.categories if source in k.sources] or self.categories
        weights = []
        for category in candidates:
            weight = category.weight
            if source == "hotline":
                # 12345's own matters (what no patrol finds) fill most of its calls.
                weight *= 0.5 if "patrol" in category.sources else 3.0
            weights.append(weight)
        return self.rng.choices(candidates, weights)[0]

    def _new_event(self, when: float) -> None:
        rng = self.rng
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        category = self._pick_category(source)
        grid = rng.choices(self.grids, self.grid_weights)[0]
        if source == "sensor" and self.mqtt is not None and self.warmed_up:
            kind = SENSOR_KINDS.get(category.code)
            if kind is not None:
                self._sensor_alarm(kind, grid, category, when)
                return
        lon, lat = self.reference.random_point(grid.code, rng)
        place = grid.name.split("第")[0]
        if source == "hotline":
            reporter = f"{rng.choice(SURNAMES)}{rng.choice('先生女士')} {_masked_phone(rng)}"
            lead = rng.choice(HOTLINE_PHRASES)
        elif source == "citizen":
            reporter = f"随手拍用户{rng.randint(1000, 9999)}"
            lead = rng.choice(CITIZEN_PHRASES)
        else:
            reporter = f"网格员 {grid.worker}"
            lead = rng.choice(PATROL_PHRASES)
        args = c.Report(
            category=category.code,
            title=f"{place}{category.name}",
            lon=lon,
            lat=lat,
            source=source,  # type: ignore[arg-type]
            description=f"{lead}：{place}附近存在{category.name}问题，请尽快处置。",
            address=f"{grid.name}",
            reporter=reporter,
        )
        actor = Actor(f"区联动中心 {rng.choice(DUTY_STAFF)[0]}", "dispatcher")
        if source == "citizen" and self.open311 is not None and self.warmed_up:
            form = {
                "service_code": category.code,
                "description": args.description or "",
                "first_name": reporter,
            }
            if rng.random() < 0.8:  # most photos carry the phone's position
                form["lat"], form["long"] = f"{lat:.6f}", f"{lon:.6f}"
            else:
                form["address_string"] = f"{self._street_name(grid)}{grid.name}"
            self._spawn(self._citizen_report(form, category))
            return
        if source == "hotline" and self.hotline is not None and self.warmed_up:
            order: dict[str, object] = {
                "order_no": f"SIM{local(when).strftime('%Y%m%d')}-{rng.randrange(10**8):08d}",
                "kind": category.name,
                "content": args.description,
                "address": f"{self._street_name(grid)}{grid.name}",
                "caller": reporter,
                "appeal": rng.choice(("投诉", "求助", "咨询", "建议")),
                "title": args.title,
            }
            if rng.random() < 0.5:  # half the calls come with the caller's location
                order["lon"], order["lat"] = lon, lat
            self._spawn(self._push(order, category, when))
            return
        self._command(
            actor,
            "report",
            args,
            when,
            lambda a: self._after_report(int(a.data["event"]), grid, category, when),
        )

    def _spawn(self, request: Coroutine[Any, Any, None]) -> None:
        """A request to an intake endpoint, under way while the simulation goes on."""
        task = asyncio.get_running_loop().create_task(request)
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _citizen_report(self, form: dict[str, str], category: Category) -> None:
        """Send one citizen's report as the app does; its case then goes round the loop."""
        assert self.open311 is not None
        try:
            response = await self.open311.report(form)
            answer = response.json()
        except Exception as exc:  # the endpoint down or refusing: the report is lost, say so
            log.warning("simulated Open311 report failed: %s", exc)
            return
        if response.status_code != 200 or not isinstance(answer, list) or not answer:
            log.warning("simulated Open311 report refused: %s", answer)
            return
        self.reported_by_app += 1
        code = answer[0].get("service_request_id")
        hub = self.server.hub
        event = next((e for e in (hub.events.values() if hub else ()) if e.code == code), None)
        grid = self.reference.grids.get(event.grid) if event is not None else None
        if event is None or grid is None:
            return
        self._after_report(event.id, grid, category, self.server.clock.now())

    def _street_name(self, grid: Grid) -> str:
        street = self.reference.streets.get(grid.street)
        return street.name if street else ""

    async def _push(self, order: dict[str, object], category: Category, when: float) -> None:
        """Push one work order as the 12345 platform does; its case then goes round the loop
        as any other (placed where the backend placed it)."""
        assert self.hotline is not None
        try:
            response = await self.hotline.push(order)
            answer = response.json()
        except Exception as exc:  # the endpoint down or refusing: the call is lost, say so
            log.warning("simulated 12345 push failed: %s", exc)
            return
        if response.status_code != 200 or not answer.get("ok"):
            log.warning("simulated 12345 push refused: %s", answer)
            return
        self.pushed += 1
        event_id = int(answer["event"])
        event = self.server.state.events.get(event_id)
        grid = self.reference.grids.get(event.grid) if event is not None else None
        if grid is None or answer.get("repeat"):
            return
        self._after_report(event_id, grid, category, self.server.clock.now())

    def _sensor_alarm(self, kind: str, grid: Grid, category: Category, when: float) -> None:
        """A sensor of the grid reads on the alarm side through MQTT; the intake's rule opens
        the case, which the grid's staff then take up; two hours on it reads normal again."""
        assert self.mqtt is not None
        device = self.mqtt.settings.devices.get(f"{kind}-{grid.code}")
        if device is None:
            return
        alarm, normal = SENSOR_VALUES[kind]
        self.mqtt.reading(device, alarm, local(when).isoformat())

        def adopt(at: float) -> None:
            hub = self.server.hub
            events = hub.events.values() if hub else ()
            for event in events:
                if event.reporter == device.id and event.status == "reported":
                    self._after_report(event.id, grid, category, at)

        self.at(when + 2 * MINUTE, adopt)
        clear_after = self.mqtt.settings.rules[kind].clear_after
        mqtt = self.mqtt

        def back_to_normal(at: float) -> None:
            mqtt.reading(device, normal, local(at).isoformat())

        for later in (2 * HOUR, 2 * HOUR + clear_after + MINUTE):
            self.at(when + later, back_to_normal)

    def _staff(self, grid: Grid) -> Actor:
        street = self.reference.streets[grid.street]
        return Actor(f"{street.name}分中心", "street", frozenset({grid.street}))

    def _worker(self, grid: Grid) -> Actor:
        return Actor(f"网格员 {grid.worker}", "street", frozenset({grid.street}))

    def _delay(self, median_minutes: float, when: float, rng: random.Random | None = None) -> float:
        hour = local(when).hour
        night = 2.5 if hour < 7 or hour >= 21 else 1.0
        return MINUTE * median_minutes * night * math.exp((rng or self.rng).gauss(0, 0.5))

    def _in_time(self, event: int, when: float, median_minutes: float, late_odds: float) -> float:
        """When staff complete a timed stage: at their own pace, but most of them watch the
        stage's clock and finish before it runs out; `late_odds` of them do not."""
        rng = self._rng_of(event)
        pace = self._delay(median_minutes, when, rng)
        hub = self.server.hub
        current = hub.events.get(event) if hub else None
        deadline = current.deadline if current else None
        if deadline is None or when + pace < deadline - MINUTE or rng.random() < late_odds:
            return when + pace
        window = max(deadline - when, MINUTE)
        return when + window * rng.uniform(0.3, 0.9)

    def _rng_of(self, event: int) -> random.Random:
        # Each event's life draws from its own generator: answers arrive in an order that
        # depends on the writer's batching, and a shared generator would make runs differ.
        rng = self._event_rngs.get(event)
        if rng is None:
            rng = self._event_rngs[event] = random.Random(self.seed * 1_000_003 + event)
            if len(self._event_rngs) > 50_000:
                self._event_rngs.pop(next(iter(self._event_rngs)))
        return rng

    def _after_report(self, event: int, grid: Grid, category: Category, reported: float) -> None:
        rng = self._rng_of(event)
        staff = self._staff(grid)
        when = self._in_time(event, reported, 8, LATE_ODDS)
        if rng.random() < 0.03:
            reason = rng.choice(("重复上报，已并案", "不属于受理范围", "现场核实无此问题"))
            self.at(
                when,
                lambda t: self._command(
                    staff,
                    "reject",
                    c.Reject(event=event, reason=reason),
                    t,
                    lambda _: self._done(event),
                ),
            )
            return
        self.at(
            when,
            lambda t: self._command(
                staff,
                "accept",
                c.EventRef(event=event),
                t,
                lambda _: self._dispatch(event, grid, category, t),
            ),
        )

    def _dispatch(self, event: int, grid: Grid, category: Category, accepted: float) -> None:
        rng = self._rng_of(event)
        staff = self._staff(grid)
        when = self._in_time(event, accepted, 10, LATE_ODDS)
        # Cases of a department's remit go to it; the rest to the grid's own worker.
        # Its own district's department (each district has its own 区城管局 etc.).
        department = self.reference.department_for(grid.street, category.department)
        use_department = department is not None and rng.random() < 0.6
        assignee = department if department is not None and use_department else ""
        assignee = assignee or f"网格员 {grid.worker}"
        if rng.random() < 0.04:
            self.at(
                when,
                lambda t: self._command(
                    staff,
                    "escalate",
                    c.Escalate(event=event, reason="涉及多部门，需上级协调"),
                    t,
                    lambda _: self._consult_maybe(event, t),
                ),
            )
            when += self._delay(30, when, self._rng_of(event))
        assist: list[str] = []
        if use_department and rng.random() < ASSIST_ODDS:
            others = [d for d in self.reference.departments_of(grid.street) if d != assignee]
            assist = [rng.choice(others)] if others else []
        self.at(
            when,
            lambda t: self._command(
                staff,
                "dispatch",
                c.Dispatch(event=event, assignee=assignee, assist=assist),
                t,
                lambda _: self._signed(event, grid, category, t, assignee, assist),
            ),
        )

    def _unit(self, code: str, grid: Grid) -> Actor:
        """A department's liaison acting on a case of this grid's street."""
        department = self.reference.departments.get(code)
        name = department.name if department else code
        return Actor(name, "street", frozenset({grid.street}))

    def _signed(
        self,
        event: int,
        grid: Grid,
        category: Category,
        dispatched: float,
        assignee: str,
        assist: list[str],
    ) -> None:
        """A department signs for its case (签收), or sends it back as not its remit (退单),
        and its assisting units sign too; a grid worker just starts."""
        if assignee not in self.reference.departments:
            self._start(event, grid, dispatched)
            return
        rng = self._rng_of(event)
        unit = self._unit(assignee, grid)
        when = self._in_time(event, dispatched, 15, LATE_ODDS)
        if rng.random() < RETURN_ODDS:
            reason = rng.choice(("不属于本单位职责范围", "权属不清，请核实后重新派遣"))
            self.at(
                when,
                lambda t: self._command(
                    unit,
                    "return_case",
                    c.ReturnCase(event=event, reason=reason),
                    t,
                    lambda _: self._redispatch(event, grid, t),
                ),
            )
            return
        for code in assist:
            helper = self._unit(code, grid)
            self.at(
                when + self._delay(10, when, rng),
                self._act(helper, "acknowledge", c.Acknowledge(event=event, unit=code)),
            )
        self.at(
            when,
            lambda t: self._command(
                unit,
                "acknowledge",
                c.Acknowledge(event=event),
                t,
                lambda _: self._start(event, grid, t),
            ),
        )

    def _redispatch(self, event: int, grid: Grid, returned: float) -> None:
        """A returned case goes to the grid's own worker."""
        staff = self._staff(grid)
        when = self._in_time(event, returned, 10, LATE_ODDS)
        self.at(
            when,
            lambda t: self._command(
                staff,
                "dispatch",
                c.Dispatch(event=event, assignee=f"网格员 {grid.worker}"),
                t,
                lambda _: self._start(event, grid, t),
            ),
        )

    def _consult_maybe(self, event: int, when: float) -> None:
        if self._rng_of(event).random() > 0.5:
            return
        commander = Actor("县干指挥长", "commander")
        start = when + self._delay(20, when, self._rng_of(event))
        self.at(
            start,
            lambda t: self._command(
                commander,
                "escalate",
                c.Escalate(event=event, reason="提请区级会商"),
                t,
                lambda _: self.at(
                    t + 60,
                    self._act(
                        commander,
                        "consult",
                        c.EventRef(event=event),
                        lambda t2: self._decide(event, t2),
                    ),
                ),
            ),
        )

    def _decide(self, event: int, when: float) -> None:
        commander = Actor("县干指挥长", "commander")
        text = self._rng_of(event).choice(
            (
                "由区城管局牵头，街道配合，三日内完成整改。",
                "请住建、城管联合执法，明日上午现场办公。",
                "责成属地街道做好群众解释工作，每日报送进展。",
            )
        )
        later = when + self._delay(45, when, self._rng_of(event))
        self.at(
            later,
            lambda t: self._command(
                commander,
                "decide",
                c.Decide(event=event, text=text),
                t,
                lambda _: self.at(
                    t + 120, self._act(commander, "end_consult", c.EventRef(event=event))
                ),
            ),
        )

    def _start(self, event: int, grid: Grid, dispatched: float) -> None:
        handler = self._handler(event, grid)
        when = dispatched + self._delay(25, dispatched, self._rng_of(event))
        self.at(
            when,
            lambda t: self._command(
                handler, "start", c.EventRef(event=event), t, lambda _: self._handle(event, grid, t)
            ),
        )

    def _handler(self, event: int, grid: Grid) -> Actor:
        """Who handles a case now: its department's liaison, or the grid's worker."""
        hub = self.server.hub
        current = hub.events.get(event) if hub else None
        if current is not None and current.assignee in self.reference.departments:
            return self._unit(current.assignee, grid)
        return self._worker(grid)

    def _handle(self, event: int, grid: Grid, started: float) -> None:
        rng = self._rng_of(event)
        hub = self.server.hub
        current = hub.events.get(event) if hub else None
        limit_window = (current.deadline or started) - started if current else HOUR
        handler = self._handler(event, grid)
        centre = Actor("区联动中心 赵磊", "dispatcher")
        if limit_window > 5 * 86400 and rng.random() < HOLD_ODDS:
            # A long case that waits on planning, funds or a court: held (挂账) for review.
            review = started + 30 * 86400
            self.at(
                started + window_part(limit_window, 0.1),
                lambda t: self._command(
                    handler,
                    "request_hold",
                    c.RequestHold(event=event, reason="需待规划审批，申请挂账", review_at=review),
                    t,
                    lambda _: self.at(
                        t + HOUR,
                        self._act(centre, "decide_hold", c.DecideHold(event=event, approve=True)),
                    ),
                ),
            )
            # The clock releases it at its review date: then its handler takes it up again.
            self.at(review + MINUTE, lambda t: self._resume_case(event, t))
            return
        # Most cases are fixed within hours even when the limit allows days; a few run past.
        late = rng.random() < HANDLE_LATE_ODDS
        if late:
            window, fraction = max(limit_window, 30 * MINUTE), rng.uniform(1.2, 2.5)
        else:
            window, fraction = min(max(limit_window, 30 * MINUTE), 6 * HOUR), rng.uniform(0.1, 0.7)
        when = started + window * fraction
        if late and rng.random() < EXTENSION_ODDS:
            # Seeing it will not make it, the handler asks for more time while there is time.
            hours = math.ceil((when - started - window) / HOUR) + 4
            self.at(
                started + window * 0.5,
                lambda t: self._command(
                    handler,
                    "request_extension",
                    c.RequestExtension(event=event, hours=hours, reason="需协调相关单位，申请延期"),
                    t,
                    lambda _: self.at(
                        t + 20 * MINUTE,
                        self._act(
                            centre,
                            "decide_extension",
                            c.DecideExtension(event=event, approve=rng.random() < 0.9),
                        ),
                    ),
                ),
            )
        waiting = [a for a in current.assisting if a.reported_at is None] if current else []
        for assist in waiting:
            helper = self._unit(assist.unit, grid)
            self.at(
                started + (when - started) * 0.6,
                self._act(
                    helper,
                    "assist_report",
                    c.AssistReport(
                        event=event, unit=assist.unit, text="协办事项已完成，现场已复原。"
                    ),
                ),
            )
        self.at(
            when,
            lambda t: self._command(
                handler,
                "handled",
                c.EventRef(event=event, note="已处置完毕，附现场照片。"),
                t,
                lambda _: self._verify(event, grid, t),
            ),
        )

    def _verify(self, event: int, grid: Grid, handled: float) -> None:
        staff = self._staff(grid)
        when = self._in_time(event, handled, 40, LATE_ODDS)
        if self._rng_of(event).random() < REWORK_ODDS:
            self.at(
                when,
                lambda t: self._command(
                    staff,
                    "verify",
                    c.Verify(event=event, passed=False, note="现场核查未整改到位"),
                    t,
                    lambda _: self._start(event, grid, t),
                ),
            )
            return
        self.at(
            when,
            lambda t: self._command(
                staff,
                "verify",
                c.Verify(event=event, passed=True),
                t,
                lambda _: self._close(event, grid, t),
            ),
        )

    def _close(self, event: int, grid: Grid, verified: float) -> None:
        staff = self._staff(grid)
        when = self._in_time(event, verified, 10, LATE_ODDS)

        def evaluate(answer: Answer) -> None:
            if self._rng_of(event).random() >= 0.6:
                self._done(event)  # not evaluated: its life here is over
                return
            score = self._rng_of(event).choices([5, 4, 3, 2], [70, 22, 6, 2])[0]
            self.at(
                when + self._delay(120, when, self._rng_of(event)),
                lambda t: self._command(
                    staff,
                    "evaluate",
                    c.Evaluate(event=event, score=score),
                    t,
                    lambda answer: self._after_evaluation(event, grid, t, answer),
                ),
            )

        self.at(when, lambda t: self._command(staff, "close", c.EventRef(event=event), t, evaluate))

    def _resume_case(self, event_id: int, when: float) -> None:
        """Pick a case up at the step its status calls for (after a restart, or a hold)."""
        hub = self.server.hub
        event = hub.events.get(event_id) if hub else None
        if event is None or event.status not in OPEN_STATUSES or on_hold(event):
            return
        grid = self.reference.grids[event.grid]
        category = self._category(str(event_id))
        if event.status == "reported":
            self._after_report(event_id, grid, category, when)
        elif event.status == "accepted":
            self._dispatch(event_id, grid, category, when)
        elif event.status == "dispatched":
            self._start(event_id, grid, when)
        elif event.status == "handling":
            self._handle(event_id, grid, when)
        elif event.status == "handled":
            self._verify(event_id, grid, when)
        else:  # verified
            self._close(event_id, grid, when)

    def _after_evaluation(self, event: int, grid: Grid, when: float, answer: Answer) -> None:
        """A low score sends the case back (the backend reopens it): handle it again."""
        if answer.data.get("status") == "dispatched":
            self._start(event, grid, when)
        else:
            self._done(event)

    def _done(self, event: int) -> None:
        """A case's life here is over (rejected, closed for good): its generator goes at once
        (2.5 KB each; kept until the case left the live state, a busy day's arrivals added
        ~1.7 MiB by evening, the soak's largest remaining rise after the KPI book). A return
        visit that acts on it again starts a fresh one from its seed, as after a restart."""
        self._event_rngs.pop(event, None)

    def _supervision_round(self, when: float) -> None:
        hub = self.server.hub
        if hub is not None:
            commander = Actor("县干指挥长", "commander")
            late = [
                e
                for e in hub.events.values()
                if e.overdue and not e.supervised and e.status in ("dispatched", "handling")
            ]
            chosen = self._side_rng.sample(late, min(len(late), 2))
            for event in chosen:
                self._command(
                    commander,
                    "supervise",
                    c.EventRef(event=event.id, note="超期未办结，督办"),
                    when,
                )
            by_district: dict[str, list[Event]] = {}
            for event in chosen:
                by_district.setdefault(event.street[:DISTRICT_WIDTH], []).append(event)
            for district, cases in by_district.items():
                home = self.districts_first[0]
                if hub.duties.get(district) is None and (district != home or hub.duty is None):
                    continue  # no duty handed over yet: no board to write on
                # The commander tells the district's centre (the duty board its walls show).
                streets = "、".join(
                    dict.fromkeys(self.reference.streets[e.street].name for e in cases)
                )
                text = self._side_rng.choice(
                    (
                        f"{streets}超期案件已督办，请属地分中心今日内反馈处置进展。",
                        f"请{streets}分中心对督办案件逐件销号，明早交班前报送。",
                        f"{streets}督办案件由分管领导牵头，限时办结，不得推诿。",
                    )
                )
                self._command(commander, "instruct", c.Instruct(text=text, district=district), when)
        self.at(when + 30 * MINUTE, self._supervision_round)

    # ---- cameras ---------------------------------------------------------------------------

    def _camera_burst(self, when: float) -> None:
        rng = self.rng
        camera = rng.choice(self.cameras)
        kinds = [k for k in CAMERA_KINDS if not camera.kinds or k.code in camera.kinds]
        kind = rng.choice(kinds or list(CAMERA_KINDS))
        hits = rng.choices([1, 2, 3, 4, 6, 9], [30, 25, 18, 12, 10, 5])[0]
        t = when
        review_at = when + sum(rng.uniform(5, 45) for _ in range(hits)) + self._delay(6, when)
        for hit in range(hits):
            score = min(0.99, rng.uniform(0.62, 0.97))
            image = render_alert_snapshot(
                camera.name, kind.name, score, local(t), seed=rng.randint(0, 2**31)
            )
            request = DetectRequest(
                camera.code, kind.code, score, Image("image/svg+xml", image), at=t
            )
            self.at(t, functools.partial(self._detect, request, review_at if hit == 0 else None))
            t += rng.uniform(5, 45)
        self.at(when + rng.expovariate(self._alert_rate(when)), self._camera_burst)

    def _detect(self, request: DetectRequest, review_at: float | None, when: float) -> None:
        if self.mqtt is not None and self.warmed_up:
            image = None if request.image is None else request.image
            self.mqtt.camera_event(
                request.camera,
                request.kind,
                request.score,
                None if image is None else (image.content_type, image.body),
                when,
            )
            if review_at is not None:
                camera, kind = request.camera, request.kind
                self.at(review_at, lambda at: self._review_burst(camera, kind, at))
            return

        # The first hit of a burst names the alert; the video patrol reviews it a few
        # minutes after the burst (by id, so it never looks before the alert exists).
        def review(answer: Answer) -> None:
            alert_id = int(answer.data["alert"])
            assert review_at is not None
            self.at(review_at, lambda at: self._review_alert(alert_id, at))

        self._submit(request, review if review_at is not None else None)

    def _review_burst(self, camera: str, kind: str, when: float) -> None:
        """The review of a burst that came in through MQTT: its open alert, found by camera
        and kind (the intake, not the simulator, learnt its id)."""
        hub = self.server.hub
        alerts = hub.alerts.values() if hub else ()
        found = [a for a in alerts if (a.camera, a.detection, a.status) == (camera, kind, "new")]
        if found:
            self._review_alert(max(a.id for a in found), when)

    def _review_alert(self, alert_id: int, when: float) -> None:
        hub = self.server.hub
        alert = hub.alerts.get(alert_id) if hub else None
        if alert is None or alert.status != "new":
            return
        staff = Actor("区联动中心 视频巡查", "dispatcher")
        roll = self._side_rng.random()
        if roll < 0.45:
            grid = self.reference.grids[alert.grid]
            self._command(
                staff,
                "confirm_alert",
                c.ConfirmAlert(alert=alert.id),
                when,
                lambda a: self._after_report(
                    int(a.data["event"]), grid, self._category(str(a.data.get("event"))), when
                ),
            )
        elif roll < 0.9:
            reason = self._side_rng.choice(("误报", "树影误识别", "已自行消除"))
            self._command(
                staff, "dismiss_alert", c.DismissAlert(alert=alert.id, reason=reason), when
            )

    def _category(self, event_id: str) -> Category:
        hub = self.server.hub
        event = hub.events.get(int(event_id)) if hub else None
        code = event.category if event else self.categories[0].code
        return next((k for k in self.categories if k.code == code), self.categories[0])


def demo_plans(start: float, days: int = 7) -> list[DutyPlan]:
    """The demo's planned duty (排班) of `days` days from `start`'s: each day the commander
    the simulator's rotation hands it to, and four of the centre's staff, with phones."""
    plans = []
    first = day_start(start)
    for n in range(days):
        duty_time = first + n * 24 * HOUR + 8.5 * HOUR
        day_index = int(duty_time // (24 * HOUR))
        name, title = COMMANDERS[day_index % len(COMMANDERS)]
        rng = random.Random(day_index)
        staff = [DUTY_STAFF[(day_index + k) % len(DUTY_STAFF)] for k in range(4)]
        plans.append(
            DutyPlan(
                day=local(duty_time).strftime("%Y-%m-%d"),
                commander=Person(name=name, title=title, phone=_phone(rng)),
                roster=[
                    Person(name=who, title=job, post="区联动中心", phone=_phone(rng))
                    for who, job in staff
                ],
                updated_at=start,
                updated_by="demo",
            )
        )
    return plans


def window_part(window: float, share: float) -> float:
    """A share of a time window, at least a minute."""
    return max(MINUTE, window * share)


def _area(grid: Grid) -> float:
    ring = grid.polygon[0]
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))) / 2


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"


def _masked_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}****{rng.randint(1000, 9999)}"
