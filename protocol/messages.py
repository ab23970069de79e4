"""Protocol v1 messages: a tagged union on the `type` field, unknown fields refused."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from protocol.entities import (
    Alert,
    Category,
    Duty,
    Event,
    Kpi,
    Level,
    Person,
    Reference,
    Role,
    Status,
)
from protocol.retention import View

PROTOCOL_VERSION = 1
# A history answer holds at most this many entries, the newest (HistoryEntry).
HISTORY_LIMIT = 500
# At most this many outbox rows in an intake_status answer, or ids in a retry_feedback.
OUTBOX_ROWS_MAX = 500
# A user's name, as create_user and revoke_user take it: 1 to this many characters.
USER_NAME_MAX = 100
# A roster read covers at most this many days; set_roster plans at most this far ahead.
ROSTER_SPAN = 62
# A `shifts` request lists the shifts of at most this many days.
SHIFTS_SPAN = 62
ROSTER_AHEAD = 366
# A day's roster holds at most this many people; each text of a person at most this long.
ROSTER_PEOPLE_MAX = 30
PERSON_TEXT_MAX = 50
# A category table sent with load_categories: at most this many bytes once decompressed.
TABLE_MAX_BYTES = 4 * 1024 * 1024


class _Msg(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True):
    """Base of every message; the subclass's tag is its `type`."""


# A district's 6-digit code, or "" for the user's own.
_District = Annotated[str, msgspec.Meta(max_length=6, pattern=r"^(\d{6})?$")]

# ---- client -> server -----------------------------------------------------------------


class Resume(msgspec.Struct, forbid_unknown_fields=True):
    """Where a reconnecting client left off."""

    epoch: str
    seq: int


class Hello(_Msg, tag="hello"):
    """First message of every connection: protocol version and credentials."""

    id: int
    protocol: int
    token: str
    client: str = ""
    resume: Resume | None = None
    reference: str | None = None  # version of the units the client has cached, if any
    view: View = "all"  # "open": no settled entities in snapshots (protocol/retention.py)


# A command_id is recorded as text (PostgreSQL's text holds no NUL): no control characters.
_COMMAND_ID = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


def valid_command_id(command_id: str) -> bool:
    """Whether a command's command_id is one the server records: 1..64 characters, none a
    control character (§6.1)."""
    return _COMMAND_ID.fullmatch(command_id) is not None


class Command(_Msg, tag="command"):
    """A request to change state; `command_id` makes retries safe (applied at most once)."""

    id: int
    command_id: str
    op: str
    args: dict[str, Any] = {}


class Ping(_Msg, tag="ping"):
    """Application-level liveness check; answered by a `result` with the server time."""

    id: int


class Stats(_Msg, tag="stats"):
    """Ask for the KPIs of every scope of a kind over a period; answered by a `result`
    whose data is {"by", "period", "rows": {code: Kpi}} (docs/kpis.md has the figures)."""

    id: int
    by: Literal["street", "community", "grid", "department", "worker"]
    period: Literal["today", "week", "month"] = "today"


class History(_Msg, tag="history"):
    """Ask for a case's audit timeline; answered by a `result` whose data is
    {"event", "entries": [HistoryEntry], "truncated"}, or `not_found`."""

    id: int
    event: Annotated[int, msgspec.Meta(ge=1)]


class Users(_Msg, tag="users"):
    """Ask for every user, revoked ones too (role admin only); answered by a `result` whose
    data is {"users": [UserEntry]}, or `forbidden`."""

    id: int


class CreateUser(_Msg, tag="create_user"):
    """Create a user (role admin only); answered by a `result` whose data is {"user": name,
    "token": the new token}, the one place the token appears, or `conflict` when the name
    is taken (update_user changes an existing user).

    `role` is one of entities.ROLES; the jurisdiction is `streets` (street codes, or in a
    store of several districts 6-digit district codes, never both and not for role street)
    or, for role community only, `communities` (community codes); none is the whole
    district. The server checks them (bad_args) rather than the codec, so that a refusal
    is audited too.
    """

    id: int
    name: str
    role: str
    streets: list[str] = []
    communities: list[str] = []
    # The name people read (王芳): at most USER_NAME_MAX characters, no space at either end;
    # "" (or none given) for none.
    display_name: str = ""


class UpdateUser(_Msg, tag="update_user"):
    """Change an existing user (role admin only), like `dispatch update-user`: its `role`,
    its jurisdiction (`streets`, or a community user's `communities`; `whole_district` for
    none), its `display_name` ("" for none), or its token (`new_token`); a field left out
    keeps what the user has. Answered by a `result` whose data is {"user": name, "role",
    "jurisdiction", "display_name"} and, with `new_token`, "token": the new token (the one
    place it appears); or `not_found`, `bad_args`.
    """

    id: int
    name: str
    role: str | None = None
    streets: list[str] = []
    communities: list[str] = []
    whole_district: bool = False
    display_name: str | None = None
    new_token: bool = False


class RevokeUser(_Msg, tag="revoke_user"):
    """Revoke a user's token (role admin only); answered by a `result` whose data is
    {"user": name}, or `not_found`."""

    id: int
    name: str


class Roster(_Msg, tag="roster"):
    """Ask for the planned duty (排班) of the days `first` to `last` (yyyy-mm-dd, at most
    ROSTER_SPAN days; roles commander, dispatcher and admin); answered by a `result` whose
    data is {"today": yyyy-mm-dd, "days": [DutyPlan]}, the planned days only, in order."""

    id: int
    first: str
    last: str
    # Whose centre's roster: a district code; "" for the user's own district (one who sees
    # several, a city's user, must name it).
    district: _District = ""


class SetRoster(_Msg, tag="set_roster"):
    """Plan one day's duty, replacing its plan (role admin only); without a commander the
    day's plan is removed. Answered by a `result` whose data is {"day", "planned": bool,
    "duty": bool}: `duty` when the duty in force is that day's and took the new roster.

    The server checks the day (a date, today or later, at most ROSTER_AHEAD days ahead), the
    people (names, each roster person's title, phones) rather than the codec, so that a
    refusal is audited too.
    """

    id: int
    day: str
    commander: Person | None = None
    roster: list[Person] = []
    district: _District = ""  # as in Roster


class SetCategory(_Msg, tag="set_category"):
    """Add a category or replace one of that code (role admin only); answered by a `result`
    whose data is a table change (see LoadCategories).

    The fields are those of the table file (resources/district/categories.json): `limits`
    per stage (accept, dispatch, handle, verify) as "4h", "0.5h", "15m" or "3d"; `cls` names
    the class only when the code's class is new. Checked by the table's own validation.
    `district`: whose table, in a city of several (default: the admin's own district; an
    admin of the whole city names it).
    """

    id: int
    code: str
    name: str
    standard: str
    priority: int
    department: str
    limits: dict[str, str]
    basis: str = "working"
    cls: str = ""
    district: str = ""


class LoadCategories(_Msg, tag="load_categories"):
    """Replace the whole category table with a table file (role admin only), or with `check`
    only say what it would change. `content` is the file's bytes compressed with zlib and
    base64-encoded; `file` its name, for the messages. Answered by a `result` whose data is
    {"table": version, "added", "changed", "removed", "unmapped": [codes], "loaded": bool}.
    `district`: whose table, as for SetCategory.
    """

    id: int
    file: str
    content: str
    check: bool = False
    district: str = ""


class IntakeStatus(_Msg, tag="intake_status"):
    """Ask how the intakes stand (roles dispatcher and admin): each intake on or off with
    what it says of itself, and the 12345 feedback outbox. Answered by a `result` whose data
    is {"intakes": {name: {...}}, "outbox": {"counts": {state: n}, "peers": {peer: {state:
    n}}, "rows": [OutboxRow]}}; `state` lists only the rows in that state, newest first, at
    most `limit` of them (docs/protocol.md §6.12)."""

    id: int
    state: Literal["pending", "delivered", "refused"] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=OUTBOX_ROWS_MAX)] = 100


class RetryFeedback(_Msg, tag="retry_feedback"):
    """Send feedback of the outbox again now (role admin only): refused rows, or pending
    ones waiting for their next try. Answered by a `result` whose data is {"retried": [ids],
    "skipped": [ids]} (skipped: delivered already, or no such row), or `not_found` when none
    of them can be sent again."""

    id: int
    ids: Annotated[
        list[Annotated[int, msgspec.Meta(ge=1)]],
        msgspec.Meta(min_length=1, max_length=OUTBOX_ROWS_MAX),
    ]


class Shifts(_Msg, tag="shifts"):
    """List the shifts (交接班: one duty from its handover to the next) that began from day
    `first` to day `last` (yyyy-mm-dd, at most SHIFTS_SPAN days; roles commander, dispatcher
    and admin of the whole district). Answered by a `result` whose data is {"shifts":
    [ShiftRow]}, newest first (docs/protocol.md §6.13)."""

    id: int
    first: Annotated[str, msgspec.Meta(max_length=10)]
    last: Annotated[str, msgspec.Meta(max_length=10)]
    district: _District = ""  # as in Roster


class ShiftRow(msgspec.Struct, kw_only=True):
    """One shift of a `shifts` answer: when it began and ended (null: in force), the duty's
    day, its commander and whether he left a note for the next shift."""

    start: float
    end: float | None
    day: str
    commander: str
    note: bool


_Code = Annotated[str, msgspec.Meta(max_length=20)]


class Download(_Msg, tag="download"):
    """Ask for a file (docs/protocol.md §6.13): a shift's handover report (`report`
    "handover": `shift` its start, `format` html or pdf), or the cases the user may see to
    CSV or XLSX (`report` "export": `first` to `last`, filters as `dispatch export`'s).
    Answered by a `result` whose data is {"path": "/downloads/<ticket>", "name", "bytes",
    "expires_in"}: one GET of that path with the same token fetches it, once, within
    `expires_in` seconds."""

    id: int
    report: Literal["handover", "export"]
    format: Literal["html", "pdf", "csv", "xlsx"]
    shift: Annotated[float, msgspec.Meta(ge=0, le=32503680000)] | None = None
    first: Annotated[str, msgspec.Meta(max_length=10)] = ""
    last: Annotated[str, msgspec.Meta(max_length=10)] = ""
    street: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=50)
    ] = []
    status: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=20)
    ] = []
    category: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=200)
    ] = []
    source: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=10)
    ] = []
    district: _District = ""  # a handover report's district, as in Roster


# At most this many log rows are read for one `replay` range answer (then `more` is true).
REPLAY_ROWS_MAX = 5_000
# A `replay` range spans at most this many log positions (page through longer ones).
REPLAY_SPAN_MAX = 100_000


class Replay(_Msg, tag="replay"):
    """The time machine (复盘, docs/protocol.md §6.14): the state this user may see as it was
    at a moment (`at`, district unix seconds) or log position (`seq`), or the deltas this
    user may see in (`from_seq`, `to_seq`]. Exactly one of the three forms. A moment's answer
    carries the day's KPIs as they stood then and the day's arrivals per hour; `only_kpis`
    leaves its events, alerts and duty out (a player's look ahead). Answered by a `result`;
    nothing changes, and the answer is audited like other reads."""

    id: int
    at: float | None = None
    seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    from_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    to_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    only_kpis: bool = False


ClientMessage = (
    Hello
    | Command
    | Ping
    | Stats
    | History
    | Users
    | CreateUser
    | UpdateUser
    | RevokeUser
    | Roster
    | SetRoster
    | SetCategory
    | LoadCategories
    | IntakeStatus
    | RetryFeedback
    | Shifts
    | Download
    | Replay
)


# ---- server -> client -----------------------------------------------------------------


class Welcome(_Msg, tag="welcome"):
    """Answer to hello: who you are, and how the stream continues (replay or snapshot)."""

    id: int
    protocol: int
    user: str
    role: Role
    jurisdiction: list[str]  # street codes; empty means the whole district
    epoch: str
    head: int
    resume: Literal["none", "replay", "reset"]
    server_time: float
    # The names people are shown by, by user name: every user given a display name (revoked
    # ones too: what they did stays on record). A name not in it (a user without one, the
    # clock's "system", an intake system's) is shown as it is. Changes come as `people`.
    people: dict[str, str] = {}


class Units(_Msg, tag="units"):
    """The static units this user may see (outline, streets, grids, cameras, categories).

    Sent before a snapshot unless hello.reference already names this version; it is large
    and rarely changes, so a reconnecting client that cached it is not sent it again.
    """

    version: str
    reference: Reference


class Categories(_Msg, tag="categories"):
    """The category table changed while connected (an admin's set_category or
    load_categories): the units' `categories` and `detections` are these from now on, and
    `version` is the version of the units so changed (what hello.reference names)."""

    version: str
    categories: list[Category]
    detections: dict[str, str] = {}


class People(_Msg, tag="people"):
    """The display names changed while connected (a user created, renamed): `people` is the
    whole table from now on, as welcome.people has it."""

    people: dict[str, str]


class Snapshot(_Msg, tag="snapshot"):
    """The full state this user may see, taken at log position `seq` of `epoch`."""

    epoch: str
    seq: int
    reason: Literal["initial", "reset"]
    reference: str  # version of the units it refers to (see Units)
    events: list[Event]
    alerts: list[Alert]
    duty: Duty | None
    kpis: dict[str, Kpi]
    kpis_week: dict[str, Kpi] = {}
    kpis_month: dict[str, Kpi] = {}
    kpis_catching_up: bool = False
    # Every district's duty by district code, for a user who sees several districts (a
    # city's user); `duty` is then the first district's.
    duties: dict[str, Duty] = {}


class Delta(_Msg, tag="delta"):
    """One committed change: the entity's state after log entry `seq` (`data.kind` tells which)."""

    seq: int
    action: str
    actor: str
    at: float
    data: Event | Alert | Duty


class Kpis(_Msg, tag="kpis"):
    """Fresh KPIs for the scopes this user sees ('district' and/or street codes).

    `scopes` is today; `week` and `month` the same scopes for this week (from Monday) and
    this month. While the backend is still catching up on the day after a start,
    `catching_up` is true and the figures are partial: show that, not the numbers.
    `no_writer` is true while no node writes (a gateway found the writer gone and no standby
    took over): commands wait, and the figures stay as the last writer left them.
    """

    at: float
    scopes: dict[str, Kpi]
    week: dict[str, Kpi] = {}
    month: dict[str, Kpi] = {}
    catching_up: bool = False
    no_writer: bool = False


# The wall and the desk badge a case at risk from this probability on (docs/kpis.md §8).
RISK_SHOWN_FROM = 0.2


class CaseRisk(msgspec.Struct, forbid_unknown_fields=True):
    """One open case's deadline risk in a `risk` message: the probability that it misses a
    deadline from here on (0..1, 3 decimals) and why, in Chinese (docs/kpis.md §8)."""

    p: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
    why: str


class Risk(_Msg, tag="risk"):
    """Deadline risks of the open cases this user sees (docs/kpis.md §8), coalesced: at most
    one message every few seconds, and only when something changed.

    `full`: `cases` holds every case that has a risk now, and any risk held before is
    dropped (the first `risk` after a snapshot, and after a retrained model); otherwise
    `cases` holds the risks that changed and `gone` the ids that have none any more (closed,
    late already, held). `forecast`: each street's expected count of cases turning overdue
    tomorrow, for the streets this user sees (present when it changed). `trained_at`: the
    district time of the model's history. Not sequenced, not replayed."""

    at: float
    trained_at: float
    full: bool = False
    cases: dict[int, CaseRisk] = {}
    gone: list[int] = []
    forecast: dict[str, float] = {}


class Result(_Msg, tag="result"):
    """Success of request `id`; for commands, sent only after the change committed."""

    id: int
    command_id: str | None = None
    seq: int | None = None  # log position of the change, when there was one
    data: dict[str, Any] = {}
    repeat: bool = False  # true when this answers a command_id already applied


class Error(_Msg, tag="error"):
    """Failure of request `id` (or of an undecodable frame, id 0); the connection stays up."""

    id: int
    code: str
    message: str
    command_id: str | None = None
    # not_writer: the websocket URL the writer serves at ("" or absent: not known yet).
    writer: str | None = None


class FeedbackEntry(msgspec.Struct, forbid_unknown_fields=True):
    """A feedback owed to the intake platform a case came from (12345 签收/办理中/办结/退回/
    延期/重办) and how its delivery stands; in a history answer's `feedback`, oldest first."""

    at: float  # when it was owed: the district time of the change that owed it
    peer: str  # the platform
    status: str  # what it tells the platform: 签收, 办理中, 办结, 退回, 延期, 重办
    state: Literal["pending", "delivered", "refused"]
    attempts: int
    delivered_at: float | None = None
    error: str = ""  # the last failure ("" when none)


class OutboxRow(msgspec.Struct, forbid_unknown_fields=True):
    """A feedback of the intake outbox in an `intake_status` answer; every field is always
    present. A `pending` row with an `error` is failing: it is tried again at `next_at`."""

    id: int
    peer: str  # the platform
    ref: str  # its id of the case (12345: 工单编号)
    event: int
    status: str  # what it tells the platform: 签收, 办理中, 办结, 退回, 延期, 重办
    state: Literal["pending", "delivered", "refused"]
    attempts: int
    created_at: float  # when it was owed (wall clock)
    next_at: float  # when it is tried next (pending)
    delivered_at: float | None
    error: str  # the last failure ("" when none)


class HistoryEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One step of a case's audit timeline: who did what when, and the case right after.

    `status`, `level` and `assignee` are the case's after the step; `text` is what the step
    wrote on the case's record (its note, reason or decision; several joined with "；"),
    "" when it wrote nothing. Every field is always present in a history answer.
    """

    seq: int  # the change's log position
    at: float
    actor: str
    action: str  # the op (accept, dispatch...) or the clock's (overdue, auto_reopen...)
    status: Status
    level: Level
    assignee: str
    text: str


class UserEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One user in a `users` answer; every field is always present."""

    name: str
    role: Role
    jurisdiction: list[str]  # street or community codes, sorted; empty: the whole district
    created_at: float  # when this name was (re)created: its current token's age
    revoked: bool
    display_name: str  # the name shown; "" for none


ServerMessage = (
    Welcome | Units | Categories | People | Snapshot | Delta | Kpis | Risk | Result | Error
)
AnyMessage = ClientMessage | ServerMessage
