"""The documented answer to any frame a client sends after its welcome, or as its first.

Written from docs/protocol.md, not from the server: §1 (size limit), §2 (envelope, ids), §3
(handshake refusals), §6.1–6.9 (commands, the order of checks, command_id repeats and
conflicts, ping, stats, history, admin requests), §11 (error codes: `id` is the frame's id
when it can be read, else 0). The messages' fields are the document's tables; an op's `args`
are checked against the op's schema in protocol/commands.py, which §7 transcribes.

JSON is read as RFC 8259 has it: no NaN or Infinity, no lone surrogates (text frames are
UTF-8), numbers that fit a double. What the document leaves open — an object with the same
key twice, nesting deep enough to stop a parser — is `undocumented`: any error that keeps
the connection up is accepted, and such frames are counted apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from protocol.commands import ARGS, BATCH_MAX
from protocol.messages import Error, Result

SIZE_LIMIT = 65_536
BATCHES_WAITING = 8  # §7.4: report_batch commands one connection may have unanswered
# §6.3: the codes the workflow may answer a well-formed command with (not rate_limited,
# internal, nor the codec's or the schema's).
WORKFLOW_CODES = frozenset(
    {"forbidden", "not_found", "illegal_transition", "separation_of_duties", "bad_args"}
)
INT, STR, BOOL, OBJECT, ANY = "int", "str", "bool", "object", "any"
# §2, §3, §6.1, §6.6–6.9: each client message's fields: name -> (kind, required).
MESSAGES: dict[str, dict[str, tuple[str, bool]]] = {
    "hello": {
        "id": (INT, True),
        "protocol": (INT, True),
        "token": (STR, True),
        "client": (STR, False),
        "resume": ("resume|null", False),
        "reference": ("str|null", False),
    },
    "command": {
        "id": (INT, True),
        "command_id": (STR, True),
        "op": (STR, True),
        "args": (OBJECT, False),
    },
    "ping": {"id": (INT, True)},
    "stats": {
        "id": (INT, True),
        "by": ("by", True),
        "period": ("period", False),
    },
    "history": {"id": (INT, True), "event": ("int>=1", True)},
    "users": {"id": (INT, True)},
    "create_user": {
        "id": (INT, True),
        "name": (STR, True),
        "role": (STR, True),
        "streets": ("[str]", False),
        "communities": ("[str]", False),
        "display_name": (STR, False),
    },
    "update_user": {
        "id": (INT, True),
        "name": (STR, True),
        "role": ("str|null", False),
        "streets": ("[str]", False),
        "communities": ("[str]", False),
        "whole_district": (BOOL, False),
        "display_name": ("str|null", False),
        "new_token": (BOOL, False),
    },
    "revoke_user": {"id": (INT, True), "name": (STR, True)},
    # §6.10, §6.11: the duty roster and the category table.
    "roster": {"id": (INT, True), "first": (STR, True), "last": (STR, True)},
    "set_roster": {
        "id": (INT, True),
        "day": (STR, True),
        "commander": ("person|null", False),
        "roster": ("[person]", False),
    },
    "set_category": {
        "id": (INT, True),
        "code": (STR, True),
        "name": (STR, True),
        "standard": (STR, True),
        "priority": (INT, True),
        "department": (STR, True),
        "limits": ("{str}", True),
        "basis": (STR, False),
        "cls": (STR, False),
    },
    "load_categories": {
        "id": (INT, True),
        "file": (STR, True),
        "content": (STR, True),
        "check": (BOOL, False),
    },
}
BY = ("street", "community", "grid", "department", "worker")
PERIODS = ("today", "week", "month")
ADMIN = (
    *("users", "create_user", "update_user", "revoke_user"),
    *("set_roster", "set_category", "load_categories"),
)
# Who may read the roster (§6.10); every other admin request is role admin's only.
ROSTER_READERS = ("commander", "dispatcher", "admin")
_PERSON = {"name": True, "title": True, "post": False, "phone": False}


class _Undocumented(Exception):
    """The document does not say what this frame gets."""


class _NotJson(Exception):
    """Not JSON as RFC 8259 has it."""


class _NotText(Exception):
    """JSON, but not UTF-8 text (bytes that are not UTF-8, or an escaped lone surrogate):
    refused, and whether its id counts as read the document does not say."""

    def __init__(self, readable: int) -> None:
        super().__init__("not UTF-8")
        self.readable = readable


def _no_constants(name: str) -> Any:
    raise _NotJson(name)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Undocumented(f"number {text[:20]} does not fit a double")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Undocumented("a key twice in one object")
    return dict(pairs)


def _is_text(value: Any) -> bool:
    """Lone surrogates are not Unicode: a frame holding one is not UTF-8 JSON."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_text(k) and _is_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_text(v) for v in value)
    return True


def _big_int(text: str) -> int:
    value = int(text)
    if abs(value) > 10**300:
        raise _Undocumented("an integer of over 300 digits")
    return value


def _loads(text: str) -> Any:
    try:
        return json.loads(
            text,
            parse_constant=_no_constants,
            parse_float=_finite,
            parse_int=_big_int,
            object_pairs_hook=_pairs,
        )
    except RecursionError:
        raise _Undocumented("nested too deep for a parser") from None
    except json.JSONDecodeError:
        raise _NotJson("malformed") from None


def parse(raw: bytes) -> Any:
    """The frame as JSON; _NotJson, _NotText or _Undocumented when it is not plainly that."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        value = _loads(raw.decode("utf-8", "surrogateescape"))
        raise _NotText(readable_id(value)) from None
    value = _loads(text)
    if not _is_text(value):
        raise _NotText(readable_id(value))
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fits(kind: str, value: Any) -> bool:
    """Whether a field's value has the kind the tables give it."""
    if kind == INT:
        return _is_int(value)
    if kind == "int>=1":
        return _is_int(value) and value >= 1
    if kind == STR:
        return isinstance(value, str)
    if kind == OBJECT:
        return isinstance(value, dict)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == "{str}":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if kind == "person|null":
        return value is None or _is_person(value)
    if kind == "[person]":
        return isinstance(value, list) and all(_is_person(v) for v in value)
    if kind == "[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "str|null":
        return value is None or isinstance(value, str)
    if kind == "by":
        return value in BY
    if kind == "period":
        return value in PERIODS
    if kind == "resume|null":
        return value is None or (
            isinstance(value, dict)
            and set(value) == {"epoch", "seq"}
            and isinstance(value["epoch"], str)
            and _is_int(value["seq"])
        )
    raise AssertionError(kind)


def _is_person(value: Any) -> bool:
    """§10's Person: name and title, post and phone optional, every one a string."""
    return (
        isinstance(value, dict)
        and set(value) <= set(_PERSON)
        and all(k in value for k, required in _PERSON.items() if required)
        and all(isinstance(v, str) for v in value.values())
    )


def readable_id(value: Any) -> int:
    """§11: the frame's id when it can be read (a JSON object whose `id` is an integer)."""
    if isinstance(value, dict) and _is_int(value.get("id")):
        return int(value["id"])
    return 0


def message_of(value: Any) -> dict[str, Any] | None:
    """The frame as a valid client message (its fields with their defaults), or None."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    fields = MESSAGES.get(kind) if isinstance(kind, str) else None
    if fields is None:
        return None  # no type, or an unknown or server-only one (§11)
    for name in value:
        if name != "type" and name not in fields:
            return None  # unknown fields are refused (§2)
    for name, (field_kind, required) in fields.items():
        if name not in value:
            if required:
                return None
            continue
        if not _fits(field_kind, value[name]):
            return None
    return value


def canonical(args: Any) -> str:
    """§6.2: 'the same JSON object as sent (compared after sorting keys)'."""
    return json.dumps(args, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Stored:
    """A command_id the server has recorded: whose, for what, and its first answer."""

    user: str
    op: str
    args: str  # canonical
    answer: Result | Error | None = None  # None until it arrives


class Registry(dict[str, Stored]):
    """The command_ids the server has recorded (by command_id), with those already answered
    in a list (to pick repeats from) and the largest event id a report was answered with."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: list[str] = []
        self.events = 0

    def answer(self, command_id: str, answer: Result | Error | None) -> None:
        """The first answer to a recorded command (None: it was not recorded after all)."""
        entry = self.get(command_id)
        if entry is None:
            return
        if answer is None:
            del self[command_id]
            return
        entry.answer = answer
        self.answered.append(command_id)
        if entry.op == "report" and isinstance(answer, Result):
            self.events = max(self.events, int(answer.data.get("event", 0)))


@dataclass
class Expect:
    """What one frame must get."""

    label: str  # what kind of frame it was, for the counts
    when: str  # "now": answered at once, in order; "later": after a commit or a read;
    #  "close": the connection is closed; "lenient": undocumented (any error, connection up)
    id: int = 0
    codes: frozenset[str] = frozenset()  # acceptable error codes, "result" for a result
    also: int | None = None  # another id the answer may carry (the document leaves it open)
    close_code: int = 0
    check: Callable[[Result | Error], str | None] | None = None
    stored: tuple[str, Stored] | None = None  # a command the server records, by command_id
    command_id: str | None = None

    def judge(self, answer: Result | Error) -> str | None:
        """Why the answer is not the documented one (None when it is)."""
        if self.when == "lenient":
            return None if isinstance(answer, Error) else "an undocumented frame got a result"
        got = "result" if isinstance(answer, Result) else answer.code
        if got not in self.codes:
            return f"{got} where {'/'.join(sorted(self.codes))} was due"
        if answer.id != self.id and answer.id != self.also:
            return f"id {answer.id} where {self.id} was due"
        if isinstance(answer, Error) and len(answer.message) > 500:
            return "an error message over 500 characters"
        if self.command_id is not None and answer.command_id != self.command_id:
            return f"command_id {answer.command_id!r} where {self.command_id!r} was due"
        return self.check(answer) if self.check is not None else None


@dataclass
class Oracle:
    """One connection's view: the last accepted id, and the server's recorded command_ids
    (shared by every connection: a command_id is recorded once, for everyone)."""

    user: str
    role: str
    registry: Registry
    events: int = 0  # event ids 1..events exist and are visible to this (district-wide) user
    last_id: int = 1  # the hello's
    batches: int = 0  # report_batch commands sent since every answer last came (reset then)

    def after_welcome(self, raw: bytes) -> Expect:
        """The expectation for a frame sent on an established connection."""
        if len(raw) > SIZE_LIMIT:
            return Expect("oversized", "close", close_code=1009)
        try:
            value = parse(raw)
        except _NotJson:
            return Expect("not json", "now", 0, frozenset({"bad_message"}))
        except _NotText as exc:
            return Expect("not text", "now", 0, frozenset({"bad_message"}), also=exc.readable)
        except _Undocumented as exc:
            return Expect(f"undocumented: {exc}", "lenient")
        message = message_of(value)
        if message is None:
            return Expect("bad envelope", "now", readable_id(value), frozenset({"bad_message"}))
        kind, request_id = message["type"], int(message["id"])
        if kind == "hello":  # refused, its id not taken (§2, §3)
            return Expect("second hello", "now", request_id, frozenset({"bad_message"}))
        if request_id <= self.last_id:
            return Expect(f"{kind}: stale id", "now", request_id, frozenset({"bad_id"}))
        self.last_id = request_id
        return self._request(kind, request_id, message)

    def _request(self, kind: str, request_id: int, message: dict[str, Any]) -> Expect:
        if kind == "ping":
            return Expect("ping", "now", request_id, frozenset({"result"}), check=_server_time)
        if kind == "stats":
            by, period = message["by"], message.get("period", "today")
            return Expect(
                "stats", "now", request_id, frozenset({"result"}), check=_stats(by, period)
            )
        if kind == "history":
            event = int(message["event"])
            codes = {"result"} if event <= self.events else {"result", "not_found"}
            return Expect("history", "later", request_id, frozenset(codes), check=_history(event))
        if kind == "roster" and self.role in ROSTER_READERS:
            # §6.10: the plans of a span of days, or bad_args for dates that are not one.
            return Expect(kind, "later", request_id, frozenset({"result", "bad_args"}))
        if kind in ADMIN or kind == "roster":
            # §6.9-6.11: only role admin (the roster: its readers); the fuzzed users are not.
            return Expect(kind, "later", request_id, frozenset({"forbidden"}))
        assert kind == "command"
        return self._command(request_id, message)

    def _command(self, request_id: int, message: dict[str, Any]) -> Expect:
        op, command_id = message["op"], message["command_id"]
        args = message.get("args", {})
        now = frozenset({"unknown_op"})
        if op not in ARGS:  # §6.3, in this order
            return Expect("command: unknown op", "now", request_id, now, command_id=command_id)
        # §6.1: 1-64 characters, no control character.
        if not 1 <= len(command_id) <= 64 or any(ord(c) < 32 or ord(c) == 127 for c in command_id):
            bad = frozenset({"bad_args"})
            return Expect("command: bad command_id", "now", request_id, bad, command_id=command_id)
        if not _args_fit(op, args):
            bad = frozenset({"bad_args"})
            return Expect("command: bad args", "now", request_id, bad, command_id=command_id)
        if op == "report_batch":
            # §7.4: a connection may have 8 batches waiting for their answers; one more is
            # answered rate_limited, not applied, not recorded.
            self.batches += 1
            if self.batches > BATCHES_WAITING:
                limited = frozenset({"rate_limited"})
                label = "command: a batch past 8 waiting"
                return Expect(label, "now", request_id, limited, command_id=command_id)
        stored = self.registry.get(command_id)
        key = canonical(args)
        if stored is not None:
            if (stored.user, stored.op, stored.args) != (self.user, op, key):
                conflict = frozenset({"conflict"})
                return Expect(
                    "command: conflict", "later", request_id, conflict, command_id=command_id
                )
            first = stored.answer
            if first is None:  # its first copy is still on its way: applied first or not
                return Expect(
                    "undocumented: the same command_id while the first is pending", "lenient"
                )
            codes = frozenset({"result" if isinstance(first, Result) else first.code})
            return Expect(
                "command: repeat",
                "later",
                request_id,
                codes,
                check=_same_as(first),
                command_id=command_id,
            )
        entry = Stored(self.user, op, key)
        self.registry[command_id] = entry
        # §9: the wall may act on nothing; another role may get any answer of the workflow.
        codes = frozenset({"forbidden"}) if self.role == "wall" else WORKFLOW_CODES | {"result"}
        return Expect(
            f"command: {op}",
            "later",
            request_id,
            codes,
            stored=(command_id, entry),
            command_id=command_id,
        )


def _args_fit(op: str, args: Any) -> bool:
    """§6.3 step 4: the op's schema; for a report_batch (§7.4) only the list's shape (a bad
    report is refused alone, in the result)."""
    if op != "report_batch":
        try:
            msgspec.convert(args, ARGS[op])
        except msgspec.ValidationError:
            return False
        return True
    reports = args.get("reports") if isinstance(args, dict) else None
    return (
        isinstance(args, dict)
        and set(args) == {"reports"}
        and isinstance(reports, list)
        and 1 <= len(reports) <= BATCH_MAX
    )


def _server_time(answer: Result | Error) -> str | None:
    assert isinstance(answer, Result)
    value = answer.data.get("server_time")
    return None if isinstance(value, float) else f"ping data {answer.data}"


def _stats(by: str, period: str) -> Callable[[Result | Error], str | None]:
    def check(answer: Result | Error) -> str | None:
        assert isinstance(answer, Result)
        data = answer.data
        if data.get("by") != by or data.get("period") != period:
            return f"stats answered by={data.get('by')} period={data.get('period')}"
        if not isinstance(data.get("rows"), dict) or not isinstance(data.get("catching_up"), bool):
            return "stats without rows or catching_up"
        return None

    return check


def _history(event: int) -> Callable[[Result | Error], str | None]:
    def check(answer: Result | Error) -> str | None:
        if isinstance(answer, Error):
            return None if answer.message == f"no event {event}" else answer.message
        data = answer.data
        if data.get("event") != event or not isinstance(data.get("entries"), list):
            return f"history of {data.get('event')} for event {event}"
        return None

    return check


def _same_as(first: Result | Error) -> Callable[[Result | Error], str | None]:
    """§6.2: a repeat gets the stored first answer: its seq and data and `repeat: true`, or
    the same error."""

    def check(answer: Result | Error) -> str | None:
        if isinstance(first, Result):
            assert isinstance(answer, Result)
            if (answer.seq, answer.data, answer.repeat) != (first.seq, first.data, True):
                return f"repeat answered seq {answer.seq} {answer.data} repeat={answer.repeat}"
            return None
        assert isinstance(answer, Error)
        if answer.message != first.message:
            return f"repeat answered {answer.message!r}, first {first.message!r}"
        return None

    return check


@dataclass
class FirstExpect:
    """What a connection's first frame must get (§3): a welcome, or a close with a code."""

    label: str
    close_code: int = 0  # 0: a welcome
    reason: str = ""  # the close reason's start, when the document gives it
    resume: frozenset[str] = field(default_factory=frozenset)  # acceptable welcome.resume


def first_frame(raw: bytes, tokens: set[str], epoch: str) -> FirstExpect:
    """§3's table of refusals, in the order the document lists them."""
    if len(raw) > SIZE_LIMIT:
        return FirstExpect("oversized", 1009)
    try:
        value = parse(raw)
    except (_NotJson, _NotText):
        return FirstExpect("not json", 4000, "first message: ")
    except _Undocumented as exc:
        return FirstExpect(f"undocumented: {exc}", -1)
    message = message_of(value)
    if message is None:
        return FirstExpect("not a message", 4000, "first message: ")
    if message["type"] != "hello":
        return FirstExpect("not a hello", 4000, "first message must be hello")
    if message["protocol"] != 1:
        return FirstExpect("other protocol", 4003, f"protocol {message['protocol']} unsupported")
    if message["token"] not in tokens:
        return FirstExpect("bad token", 4001, "authentication failed")
    resume = message.get("resume")
    if resume is None:
        return FirstExpect("hello", resume=frozenset({"none"}))
    if resume["epoch"] != epoch or resume["seq"] < 0:
        return FirstExpect("hello, foreign resume", resume=frozenset({"reset"}))
    # Within the log: a replay; past the head (which moves): a reset.
    return FirstExpect("hello, resume", resume=frozenset({"replay", "reset"}))
