"""report_batch as the server reads it: each report checked against its schema on its own.

A batch whose reports all pass their schema is read in one go. Otherwise the batch's shape
(a list of 1 to BATCH_MAX objects, no unknown field) is checked, then each report alone:
one that fails is refused by itself (bad_args, with the schema's message) and the others go
on to the writer, so one malformed ticket of a gateway does not hold up the rest.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from protocol import commands as c
from protocol.codec import convert


class ReadBatch(c.ReportBatch, kw_only=True):
    """A batch as read: `reports` holds the reports that passed their schema, in order, and
    `unread` the others, by their index in the batch as sent, with their refusal."""

    unread: dict[int, c.BatchItem] = msgspec.field(default_factory=dict)

    @property
    def size(self) -> int:
        """How many reports were sent."""
        return len(self.reports) + len(self.unread)


class _Shape(msgspec.Struct, forbid_unknown_fields=True):
    """The batch with its reports unread: only their number is checked."""

    reports: Annotated[list[Any], msgspec.Meta(min_length=1, max_length=c.BATCH_MAX)]


def read_batch(args: dict[str, Any]) -> c.ReportBatch:
    """The args of a report_batch; ProtocolError (bad_args) when the batch itself is
    malformed, while a malformed report is only refused in the answer's place of it."""
    try:
        return convert(args, c.ReportBatch)
    except Exception:  # ProtocolError: find out which reports, if the batch itself is sound
        shape = convert(args, _Shape)
    reports: list[c.BatchReport] = []
    unread: dict[int, c.BatchItem] = {}
    for index, raw in enumerate(shape.reports):
        try:
            reports.append(msgspec.convert(raw, c.BatchReport))
        except msgspec.ValidationError as exc:
            text = str(exc)
            where = f"`$.reports[{index}]"
            message = text.replace("`$", where) if "`$" in text else f"{text} - at {where}`"
            external_id = raw.get("external_id") if isinstance(raw, dict) else None
            unread[index] = c.BatchItem(
                external_id=external_id
                if isinstance(external_id, str) and _readable(external_id)
                else "",
                error="bad_args",
                message=message,
            )
    return ReadBatch(reports=reports, unread=unread)


def _readable(external_id: str) -> bool:
    """Whether `external_id` is a valid one (to echo it beside its report's refusal)."""
    try:
        msgspec.convert(external_id, c.ExternalId)
    except msgspec.ValidationError:
        return False
    return True
