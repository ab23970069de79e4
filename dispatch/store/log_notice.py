"""The writer's notification at each commit of log rows: the rows themselves, when they fit.

A follower (a standby or a gateway) woken by a notification that holds the rows it lacks files
them at once, without reading the log: one PostgreSQL round trip fewer per batch, which was
a third of a gateway's delay (bench/RESULTS.md §16). The log table stays the truth: a
notification with only the last seq (a batch too big for a payload, a crowded notification
queue, an older writer), a gap, or none within the poll sends the follower to the table.

The payload is JSON: `[last, [[seq, at, actor, action, entity, key, document], ...]]`, the
documents as the log holds them; or the last seq alone, as a decimal number.
"""

from __future__ import annotations

import msgspec

# PostgreSQL refuses a payload of 8,000 bytes or more (NOTIFY_PAYLOAD_MAX_LENGTH), and the
# refusal would fail the commit: a bigger batch notifies its last seq only. The server checks
# it again in its own encoding (NOTIFY_SQL), which may take more bytes than UTF-8.
PAYLOAD_MAX_BYTES = 7999
# A listener that stops reading keeps every later notification in PostgreSQL's queue (8 GB;
# full, it fails every commit that notifies). Rows fill it a hundred times faster than seqs,
# so above this share of it the writer sends seqs only (decided by the server, in the commit's
# own statement: see NOTIFY_SQL).
QUEUE_SHARE_FOR_ROWS = 0.01
# Parameters: the channel, QUEUE_SHARE_FOR_ROWS, the last seq, the payload (or the last seq).
NOTIFY_SQL = (
    "SELECT pg_notify(%s, CASE WHEN pg_notification_queue_usage() < %s"
    f" AND octet_length(told) <= {PAYLOAD_MAX_BYTES} THEN told ELSE %s END)"
    " FROM (SELECT %s::text AS told) AS notice"
)

# (seq, at, actor, action, entity, key, document as UTF-8 bytes): as Store.LogRow.
NoticedRow = tuple[int, float, str, str, str, str, bytes]
_Wire = tuple[int, list[tuple[int, float, str, str, str, str, msgspec.Raw]]]
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(_Wire).decode


def notice_payload(rows: list[tuple[int, float, str, str, str, str, str | bytes]]) -> str | None:
    """The payload telling `rows` (a commit's log rows, in seq order), or None when they do
    not fit in one."""
    if sum(len(row[6]) for row in rows) > PAYLOAD_MAX_BYTES:
        return None  # a big batch (the writer's go up to thousands of rows): not encoded
    wire = [
        (seq, at, actor, action, entity, key, msgspec.Raw(doc))
        for seq, at, actor, action, entity, key, doc in rows
    ]
    payload = _encode((rows[-1][0], wire))
    return payload.decode() if len(payload) <= PAYLOAD_MAX_BYTES else None


def read_notice(payload: str) -> tuple[int, list[NoticedRow]] | None:
    """(the last seq committed, the rows the payload holds: none for a seq alone), or None
    for a payload that is neither (the follower then reads the log). Anyone who may connect
    may notify: whatever the payload, this answers."""
    if payload.isascii() and payload.isdigit() and len(payload) <= 18:
        return int(payload), []
    try:
        last, wire = _decode(payload)
    except (msgspec.DecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
        return None
    return last, [(s, t, a, n, e, k, bytes(d)) for s, t, a, n, e, k, d in wire]
