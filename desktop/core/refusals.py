"""Why the backend refused an action, in terms a clerk understands, worked out without Qt.

The backend's messages are for logs (English, with codes). The desk says what happened to
the case instead: someone else got there first (and who), the case moved on, the user may
not, the link failed. The ui words a `Refusal` in the installed language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from protocol.entities import Event

Kind = Literal[
    "taken",  # someone else changed the case first: `by` did `action`, it is now `status`
    "moved_on",  # the case is in another state now (who is not known)
    "gone",  # the case is not there (or not in my jurisdiction)
    "forbidden",  # my role or jurisdiction does not allow it
    "same_person",  # separation of duties: not by the one who handled or asked
    "invalid",  # the form's values were refused (bad_args)
    "busy",  # rate limited or a server fault: nothing applied, try again
    "other",
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal as the desk tells it; `detail` is the backend's message for the log line."""

    kind: Kind
    by: str = ""
    action: str = ""
    status: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LastChange:
    """Who last changed a case, and how (from the delta that brought its current state)."""

    actor: str
    action: str
    at: float


def explain(
    code: str,
    message: str,
    *,
    seen: Event | None,
    now: Event | None,
    last: LastChange | None,
    me: str,
) -> Refusal:
    """A refusal of an action taken on `seen` (the case as the form showed it); `now` is
    the case as the replica has it since, `last` who brought that state."""
    if code == "not_found":
        return Refusal("gone", detail=message)
    if code == "forbidden":
        return Refusal("forbidden", detail=message)
    if code == "separation_of_duties":
        return Refusal("same_person", detail=message)
    if code == "bad_args":
        return Refusal("invalid", detail=message)
    if code in ("rate_limited", "internal"):
        return Refusal("busy", detail=message)
    if code == "illegal_transition":
        changed = seen is not None and now is not None and now.updated_at > seen.updated_at
        if now is not None and changed and last is not None and last.actor != me:
            return Refusal("taken", last.actor, last.action, now.status, message)
        if now is not None and changed:
            return Refusal("moved_on", status=now.status, detail=message)
    return Refusal("other", detail=message)
