"""The wire shape of the domain: events, camera alerts, duty, KPIs, reference units.

Times are seconds since the Unix epoch (UTC) as floats; coordinates are WGS84 (lon, lat).
"""

from __future__ import annotations

from typing import Literal

import msgspec

Status = Literal[
    "reported",
    "accepted",
    "rejected",
    "dispatched",
    "handling",
    "handled",
    "verified",
    "closed",
    "evaluated",
]
Level = Literal["grid", "community", "street", "district"]
Source = Literal["hotline", "patrol", "citizen", "camera", "sensor", "assigned"]
AlertStatus = Literal["new", "confirmed", "dismissed"]
# `gateway`: an intake system (12345 hotline platform, Open311 endpoint, camera platform)
# that only reports, one by one or in batches; it works no case.
Role = Literal["commander", "dispatcher", "street", "community", "wall", "admin", "gateway"]
# How a category's time limits run: office hours of working days, or around the clock.
Basis = Literal["working", "natural"]
# The timed stages of the loop; "closure" is the whole case's deadline (due_at).
Stage = Literal["accept", "dispatch", "handle", "verify", "closure"]

STATUSES: tuple[Status, ...] = (
    "reported",
    "accepted",
    "rejected",
    "dispatched",
    "handling",
    "handled",
    "verified",
    "closed",
    "evaluated",
)
# Still going round the loop: not rejected, closed or evaluated.
OPEN_STATUSES: frozenset[Status] = frozenset(
    {"reported", "accepted", "dispatched", "handling", "handled", "verified"}
)
LEVELS: tuple[Level, ...] = ("grid", "community", "street", "district")
SOURCES: tuple[Source, ...] = ("hotline", "patrol", "citizen", "camera", "sensor", "assigned")
ROLES: tuple[Role, ...] = (
    "commander",
    "dispatcher",
    "street",
    "community",
    "wall",
    "admin",
    "gateway",
)


class _Wire(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """Base of every wire struct: unknown fields are refused.

    gc=False: these structs hold scalars, strings and lists of other wire structs, never a
    reference back, so they cannot form cycles; untracked, the hundreds of thousands a busy
    day keeps in memory do not lengthen the collector's pauses.
    """


class Extension(_Wire):
    """A request to extend the handling deadline (延期)."""

    hours: float
    reason: str
    requested_by: str
    requested_at: float
    state: Literal["pending", "approved", "refused"] = "pending"
    requested_role: Role | None = None  # approval needs a higher level than this


class Hold(_Wire):
    """A long-term hold (挂账): the case waits on something outside the centre's reach.

    While it is approved the case's clocks stop: it is neither overdue nor due, and its
    deadlines move on by the time it was held when it is released.
    """

    reason: str
    requested_by: str
    requested_at: float
    review_at: float  # when the hold must be looked at again
    state: Literal["pending", "approved", "refused", "released"] = "pending"
    approved_by: str = ""
    since: float | None = None  # when the approved hold began
    requested_role: Role | None = None  # approval needs a higher level than this
    released_at: float | None = None  # when it ended (released by hand or at review_at)


class Assist(_Wire):
    """An assisting unit (协办单位) of a case led by its assignee (主办单位)."""

    unit: str
    acknowledged_at: float | None = None
    reported_at: float | None = None
    text: str = ""


class Decision(_Wire):
    """A consultation decision (会商意见) or commander instruction on an event."""

    at: float
    by: str
    text: str


# How an intake found an event's place: its own coordinates (point), a gazetteer entry (a
# POI or house number, a road, a grid, a community, a street), or nothing (none: the
# district's centre stands in and the place must be checked).
Place = Literal["point", "poi", "road", "grid", "community", "street", "none"]


class Intake(_Wire):
    """Where an event came in from an external system (12345, Open311), and how its place
    and category were found."""

    channel: str  # "12345", "open311"
    ref: str  # the external system's id of it (工单编号)
    peer: str  # the peer that pushed it
    place: Place  # what located it
    confidence: float  # 0..1: how sure the place is
    matched: str = ""  # the gazetteer entry (or note) that located it
    triage: str = ""  # the external type no mapping rule knew: classify before dispatch (待分拨)
    deadline_at: float | None = None  # the external system's own deadline (办理时限)
    media_url: str = ""  # a photo or file the reporter linked (Open311 media_url)
    attributes: dict[str, str] = {}  # the reporter's answers to the service's questions
    # When the source saw it happen (a sensor's reading time), beside reported_at (received).
    observed_at: float | None = None


class Event(_Wire, tag_field="kind", tag="event"):
    """One case going round the closed loop."""

    id: int
    code: str
    source: Source
    category: str
    title: str
    lon: float
    lat: float
    grid: str
    community: str
    street: str
    priority: int
    status: Status
    level: Level
    reported_at: float
    updated_at: float
    description: str = ""
    address: str = ""
    reporter: str = ""
    assignee: str = ""
    deadline: float | None = None  # current stage's deadline
    due_at: float | None = None  # the closure deadline (for on-time statistics)
    closed_at: float | None = None
    handled_at: float | None = None
    dispatched_at: float | None = None
    overdue: bool = False
    supervised: bool = False
    consulting: bool = False
    rework_count: int = 0
    escalations: int = 0
    extension: Extension | None = None
    decisions: list[Decision] = []
    media: list[str] = []
    alert: int | None = None
    evaluation: int | None = None
    # --- time limits as the standards count them -------------------------------------------
    basis: Basis = "working"  # how this case's limits run (its category's, or natural if urgent)
    calendar_guess: bool = False  # a deadline was computed on a year the calendar only guesses
    missed: list[Stage] = []  # stages whose deadline passed before they were done (sticky)
    accepted_at: float | None = None  # acceptance decided (accepted or rejected): 受理
    first_dispatched_at: float | None = None  # the first dispatch (派遣), kept through rework
    evaluated_at: float | None = None
    handle_used: float = 0.0  # seconds from dispatch to handled, summed over rounds, in `basis`
    # --- who did what: separation of duties ---------------------------------------------------
    handled_by: str = ""
    verified_by: str = ""
    # --- the loop's other paths ---------------------------------------------------------------
    extensions: int = 0  # extensions approved
    hold: Hold | None = None
    acknowledged_at: float | None = None  # the lead unit signed for it (签收)
    assisting: list[Assist] = []
    returned_by: list[str] = []  # units that sent it back as wrongly dispatched (退单), in order
    reopened: int = 0  # times reopened after closure (二次派单)
    intake: Intake | None = None  # came in through an intake gateway (12345, Open311)


def on_hold(event: Event) -> bool:
    """Whether the case's clocks are stopped by an approved hold (挂账)."""
    return event.hold is not None and event.hold.state == "approved"


def is_overdue(event: Event, now: float) -> bool:
    """Open, not on hold, and late: a stage deadline was missed (flagged) or the closure
    deadline passed. The one definition of "late" for every screen and every KPI."""
    return (
        event.status in OPEN_STATUSES
        and not on_hold(event)
        and (event.overdue or (event.due_at is not None and event.due_at < now))
    )


# Who must act on a case now (see responsible()).
Holder = Literal["assignee", "street", "centre", "commander"]


def responsible(event: Event) -> Holder | None:
    """Who has the case in their to-do now; None when nobody must act (finished, on hold).

    At district level the duty commander; below it, a pending extension or hold waits on the
    centre (commander, dispatcher, admin), who alone may decide it; at street level the
    street sub-centre's users; at grid and community level the assignee while the case is
    dispatched or being handled, and the street sub-centre at every other step (intake,
    dispatch, verification, closure).
    """
    if event.status not in OPEN_STATUSES or on_hold(event):
        return None
    if event.level == "district":
        return "commander"
    pending_extension = event.extension is not None and event.extension.state == "pending"
    pending_hold = event.hold is not None and event.hold.state == "pending"
    if pending_extension or pending_hold:
        return "centre"
    if event.level == "street":
        return "street"
    if event.status in ("dispatched", "handling") and event.assignee:
        return "assignee"
    return "street"


class Alert(_Wire, tag_field="kind", tag="alert"):
    """A camera alert: one burst of detections of one kind by one camera."""

    id: int
    camera: str
    camera_name: str
    detection: str  # AI detection kind, e.g. "ebike_in_building"
    score: float
    first_at: float
    last_at: float
    count: int
    status: AlertStatus
    lon: float
    lat: float
    grid: str
    street: str
    snapshot: str  # HTTP path on the backend, fetched with the session's token header
    event: int | None = None
    note: str = ""  # why it was dismissed
    # When the source saw it (a Frigate event's start_time): first_at and last_at are when
    # the detections were received. None: the source did not say (or said the absurd).
    observed_at: float | None = None


class Person(_Wire):
    """A person on the duty roster."""

    name: str
    title: str
    post: str = ""
    phone: str = ""


class DutyPlan(_Wire):
    """The planned duty of one day (排班): its commander (县干指挥长) and the centre's roster.

    Every field is always present in a `roster` answer (none has a default). When the day's
    duty begins (the day's first handover, or any handover that names no roster) the roster
    comes from here, and the commander's phone when the plan names the same commander.
    """

    day: str  # yyyy-mm-dd, local
    commander: Person
    roster: list[Person]
    updated_at: float  # when an admin last set it
    updated_by: str  # who did
    # The district whose centre it is (a city store plans each district's duty); "" on a
    # plan stored before districts had their own: the store's first district.
    district: str = ""


class Duty(_Wire, tag_field="kind", tag="duty"):
    """Today's duty: the commander (县干指挥长), the roster and the latest instructions."""

    day: str  # yyyy-mm-dd, local
    commander: Person
    roster: list[Person]
    handover_at: float
    instructions: list[Decision] = []
    # The duty commander's note for the next shift (交班记录): the latest shift_note.
    note: Decision | None = None
    # The district whose centre's duty it is (each district of a city has its own); "" on a
    # duty recorded before districts had their own: the store's first district.
    district: str = ""


class Kpi(_Wire):
    """Key figures of one scope (the district, a street, community, grid, department or
    worker) over one period (today, this week, this month, each up to now).

    Counts first, then the rates made of them (None when the denominator is 0). Every
    definition, with its source, is in docs/kpis.md; `due` counts the cases closed in the
    period plus those overdue now (late and still open), so `due - closed_on_time` is always
    the cases closed late plus `overdue_now`.
    """

    received: int = 0
    dispatched: int = 0
    closed: int = 0
    due: int = 0
    closed_on_time: int = 0
    on_time_rate: float | None = None
    rework_rate: float | None = None
    overdue_now: int = 0
    open_now: int = 0
    avg_handling_minutes: float | None = None
    hourly: list[int] = []  # events received in each local hour of today so far
    hourly_yesterday: list[int] = []  # the same for yesterday's 24 hours
    accepted: int = 0  # 受理 decided (accepted or rejected) in the period
    accepted_on_time: int = 0
    dispatched_on_time: int = 0  # first dispatches within the dispatch limit
    handled: int = 0  # 处置 reported in the period
    handle_due: int = 0  # 应处置: handled in the period plus handling overdue now
    reworked: int = 0  # handled in the period after at least one failed verification
    extended: int = 0  # cases in `due` with an approved extension
    on_hold: int = 0  # on an approved hold (挂账) now
    returned: int = 0  # sent back as wrongly dispatched (退单) in the period
    reopened: int = 0  # reopened after closure in the period
    evaluated: int = 0
    satisfied: int = 0  # evaluations of 3 to 5 (满意 and 基本满意)
    closure_rate: float | None = None
    handling_rate: float | None = None
    timely_accept_rate: float | None = None
    timely_dispatch_rate: float | None = None
    extension_rate: float | None = None
    satisfaction_rate: float | None = None
    score: float | None = None  # the ranking score (docs/kpis.md)


class Street(_Wire):
    """A street/township sub-centre."""

    code: str
    name: str
    kind: str
    polygon: list[list[list[float]]]  # rings of [lon, lat]
    centre: list[float]


class Community(_Wire):
    """A community (社区) or village (村)."""

    code: str
    name: str
    street: str
    polygon: list[list[list[float]]]
    centre: list[float]


class Grid(_Wire):
    """A management grid with its grid worker."""

    code: str
    name: str
    community: str
    street: str
    polygon: list[list[list[float]]]
    centre: list[float]
    worker: str = ""
    worker_phone: str = ""
    leader: str = ""


class Department(_Wire):
    """A functional department events can be dispatched to."""

    code: str
    name: str
    # The district it serves, in a city of several (each has its own, their codes
    # `340802:CGJ`); "" for the reference's own `district` (the store's first).
    district: str = ""


class Camera(_Wire):
    """A camera; `kinds` are the AI detections it runs."""

    code: str
    name: str
    lon: float
    lat: float
    grid: str
    street: str
    kinds: list[str] = []


class CategoryLimit(_Wire):
    """A stage's time limit in working hours or working days."""

    amount: float
    unit: Literal["hour", "day"]


class Category(_Wire):
    """An event category with its closure standard and per-stage limits."""

    code: str
    name: str
    cls: str
    standard: str
    priority: int
    limits: dict[str, CategoryLimit]
    basis: Basis = "working"  # how its limits run: office hours, or around the clock
    department: str = ""  # the unit it usually goes to ("" = routed by content)
    # The district whose table it is, in a city of several (each has its own table, the
    # same code in two of them two categories); "" for the reference's own `district`.
    district: str = ""


class CalendarStatus(_Wire):
    """What the working calendar knows: years from official notices, guessed years.

    `missing` lists the years around now (this one and the next) that it has no official
    data for; deadlines falling in them are computed on a guess and marked on the case.
    """

    official: list[int] = []
    estimated: list[int] = []
    missing: list[int] = []


class Reference(_Wire):
    """The static units a user may see: outline, streets, communities, grids, cameras."""

    district: str
    district_name: str
    outline: list[list[list[float]]]
    streets: list[Street]
    communities: list[Community]
    grids: list[Grid]
    departments: list[Department]
    cameras: list[Camera]
    categories: list[Category]
    detections: dict[str, str] = {}  # AI detection kind -> its name
    calendar: CalendarStatus | None = None
    # The districts this user sees, code → name, when they are several (a city's user): then
    # `district` and `district_name` name the city.
    districts: dict[str, str] = {}
