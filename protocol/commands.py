"""The command registry: one args schema per op, shared by client and server."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from protocol.entities import Intake, Source

Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
EventId = Annotated[int, msgspec.Meta(ge=1)]
# Whose centre's duty: a district's 6-digit code; None for the user's own district (one who
# sees several, a city's user, must name it: jurisdiction.pick_district).
District = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
# A time on the wire: seconds since the Unix epoch, finite and after 2000-01-01.
Moment = Annotated[float, msgspec.Meta(ge=946_684_800, le=32_503_680_000)]


class _Args(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every command's arguments."""


class Report(_Args):
    """Register a new event (hotline call, patrol finding, citizen photo...)."""

    category: Short
    title: Short
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    source: Source = "hotline"
    description: Text = ""
    address: Text = ""
    reporter: Annotated[str, msgspec.Meta(max_length=100)] = ""
    priority: Annotated[int, msgspec.Meta(ge=1, le=4)] | None = None


# A report's description through an intake (report_batch): the Open311 GeoReport v2 limit.
Description = Annotated[str, msgspec.Meta(max_length=4000)]
# At most this many reports in one report_batch (the 64 KiB frame limit may bind first).
BATCH_MAX = 500
# A gateway's own id of a report (a 12345 work-order number, an Open311 token, a camera
# platform's event id): 1 to 64 characters, no control characters.
ExternalId = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, pattern="\\A[^\\x00-\\x1f\\x7f]+\\Z")
]


class BatchReport(Report, kw_only=True):
    """One report of a batch: a report's fields and the gateway's id of it."""

    external_id: ExternalId
    # An intake's citizen may write more than a desk note: Open311 allows 4,000 characters.
    description: Description = ""
    # How an intake gateway found the place and category (shown on the case card).
    intake: Intake | None = None


class ReportBatch(_Args):
    """Many reports at once (a gateway's intake), each under its own external id: one
    already created by the same user is answered with its event and created again never."""

    reports: Annotated[list[BatchReport], msgspec.Meta(min_length=1, max_length=BATCH_MAX)]


class BatchItem(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """What became of one report of a batch: its event (new, or `repeat` when the external
    id had been created before), or the refusal (`error`, `message`) of that report alone."""

    external_id: str = ""  # as sent ("" when the report had none that could be read)
    event: int | None = None
    code: str = ""  # the event's code (DG-…)
    repeat: bool = False
    error: str = ""  # an ErrorCode: bad_args, forbidden
    message: str = ""


class BatchResult(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A report_batch's result `data`: the counts, and one item per report, in order."""

    created: int = 0
    repeats: int = 0
    refused: int = 0
    reports: list[BatchItem] = []


class EventRef(_Args):
    """An op that needs only the event (accept, start, close...)."""

    event: EventId
    note: Text = ""


class Reject(_Args):
    """Refuse an event at intake (not in scope, duplicate...)."""

    event: EventId
    reason: Short


class Dispatch(_Args):
    """Send an event to its lead unit (a grid worker or a department), with any assisting units."""

    event: EventId
    assignee: Short
    note: Text = ""
    assist: Annotated[list[Short], msgspec.Meta(max_length=10)] = []


class Verify(_Args):
    """Check the handling on site: passed closes the loop, failed sends it back (rework)."""

    event: EventId
    passed: bool
    note: Text = ""


class Evaluate(_Args):
    """The reporter's or centre's evaluation of a closed event (1..5)."""

    event: EventId
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    note: Text = ""


class RequestExtension(_Args):
    """Ask for more time to handle (延期申请)."""

    event: EventId
    hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)]
    reason: Short


class DecideExtension(_Args):
    """Approve or refuse a pending extension."""

    event: EventId
    approve: bool
    note: Text = ""


class Escalate(_Args):
    """Move an event up one level (grid -> community -> street -> district)."""

    event: EventId
    reason: Short


class ReturnCase(_Args):
    """The assignee sends back a wrongly dispatched case (退单), to be dispatched again."""

    event: EventId
    reason: Short


class Acknowledge(_Args):
    """A unit signs for a dispatched case (签收): the lead unit, or the assisting `unit`."""

    event: EventId
    unit: Short | None = None
    note: Text = ""


class AssistReport(_Args):
    """An assisting unit reports back to the lead on its part of the case (协办反馈)."""

    event: EventId
    unit: Short
    text: LongText


class RequestHold(_Args):
    """Ask to put a case on a long-term hold (挂账) until a review date."""

    event: EventId
    reason: Short
    review_at: Moment


class DecideHold(_Args):
    """Approve or refuse a pending hold."""

    event: EventId
    approve: bool
    note: Text = ""


class ReleaseHold(_Args):
    """End an approved hold: the case goes back into the loop with its deadlines moved on."""

    event: EventId
    note: Text = ""


class Reopen(_Args):
    """Send a closed case back for handling when the return visit fails (二次派单)."""

    event: EventId
    reason: Short


class Decide(_Args):
    """Record a consultation decision or an instruction on an event."""

    event: EventId
    text: Short


class Instruct(_Args):
    """A duty commander's instruction to the whole centre, optionally about one event."""

    text: Short
    event: EventId | None = None
    district: District | None = None  # the duty board's, when no event is named


class ConfirmAlert(_Args):
    """Turn a camera alert into an event (category defaults from the detection kind)."""

    alert: EventId
    category: Short | None = None
    title: Short | None = None


class DismissAlert(_Args):
    """Mark a camera alert as a false detection."""

    alert: EventId
    reason: Short = "误报"


class AttachAlert(_Args):
    """Attach a camera alert to an open event at the same spot instead of opening a duplicate."""

    alert: EventId
    event: EventId
    note: Text = ""


class Classify(_Args):
    """Set a case's category before dispatch (分拨): a case waiting for triage (待分拨, an
    intake's type no mapping rule knew) must be classified before it can be dispatched."""

    event: EventId
    category: Short
    note: Text = ""


class Handover(_Args):
    """Hand today's duty to a new commander (交接班)."""

    commander: Short
    title: Short = "县干指挥长"
    note: Text = ""
    district: District | None = None


class ShiftNote(_Args):
    """The duty commander's note for the next shift (交班记录); a later one replaces it."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    district: District | None = None


ARGS: dict[str, type[_Args]] = {
    "report": Report,
    "report_batch": ReportBatch,
    "accept": EventRef,
    "reject": Reject,
    "dispatch": Dispatch,
    "start": EventRef,
    "handled": EventRef,
    "verify": Verify,
    "close": EventRef,
    "evaluate": Evaluate,
    "request_extension": RequestExtension,
    "decide_extension": DecideExtension,
    "escalate": Escalate,
    "consult": EventRef,
    "decide": Decide,
    "end_consult": EventRef,
    "supervise": EventRef,
    "return_case": ReturnCase,
    "acknowledge": Acknowledge,
    "assist_report": AssistReport,
    "request_hold": RequestHold,
    "decide_hold": DecideHold,
    "release_hold": ReleaseHold,
    "reopen": Reopen,
    "instruct": Instruct,
    "confirm_alert": ConfirmAlert,
    "dismiss_alert": DismissAlert,
    "attach_alert": AttachAlert,
    "handover": Handover,
    "shift_note": ShiftNote,
    "classify": Classify,
}

Op = Literal[
    "report",
    "report_batch",
    "accept",
    "reject",
    "dispatch",
    "start",
    "handled",
    "verify",
    "close",
    "evaluate",
    "request_extension",
    "decide_extension",
    "escalate",
    "consult",
    "decide",
    "end_consult",
    "supervise",
    "return_case",
    "acknowledge",
    "assist_report",
    "request_hold",
    "decide_hold",
    "release_hold",
    "reopen",
    "instruct",
    "confirm_alert",
    "dismiss_alert",
    "attach_alert",
    "handover",
    "shift_note",
    "classify",
]
