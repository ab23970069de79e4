"""The shapes of the backend's `replay` answers (docs/protocol.md §6.14) as the desktop
reads them; decoded on the session's thread, so the GUI thread never converts thousands of
cases at once."""

from __future__ import annotations

import msgspec

from protocol.entities import Alert, Duty, Event, Kpi
from protocol.messages import Delta


class Moment(msgspec.Struct, forbid_unknown_fields=False):
    """A `replay` answer of the state forms: what the screen showed at a log position."""

    epoch: str
    seq: int
    at: float | None
    events: list[Event]
    alerts: list[Alert]
    duty: Duty | None
    kpis: dict[str, Kpi] = {}
    curve: list[int] = []
    day: float | None = None
    duties: dict[str, Duty] = {}  # every district's, for a user who sees several


class Page(msgspec.Struct, forbid_unknown_fields=False):
    """A `replay` answer of the range form: the deltas of (from_seq, to_seq] one may see."""

    epoch: str
    from_seq: int
    to_seq: int
    more: bool
    deltas: list[Delta]


class MomentAnswer(msgspec.Struct, tag="result", tag_field="type", forbid_unknown_fields=False):
    """A `result` frame holding a Moment, decoded in one pass from the raw frame."""

    id: int
    data: Moment


class PageAnswer(msgspec.Struct, tag="result", tag_field="type", forbid_unknown_fields=False):
    """A `result` frame holding a Page, decoded in one pass from the raw frame."""

    id: int
    data: Page


class FrameHead(msgspec.Struct, forbid_unknown_fields=False):
    """A frame's type and request id, read without building the rest."""

    type: str
    id: int = 0
