"""Fuzzed client frames: well-formed ones of every kind, then broken on purpose — a field
dropped, added or of another type, a stale or odd id, an op's args out of their schema —
and, atheris-style, valid frames mutated byte by byte (flips, insertions, deletions,
splices, truncations, JSON tokens in odd places). Seeded: the same seed, the same frames.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from bench.reliability.oracle import ADMIN, BY, PERIODS, Oracle
from protocol.commands import ARGS

# Text that tends to break things: quotes, escapes, controls, CJK, emoji, RTL, zero-width.
ODD_TEXT = (
    '"',
    "\\",
    "\\u0000",
    "\x00",
    "\n",
    "\u2028",
    "\ufeff",
    "菱湖街道",
    "🚒",
    "\u202e",
    "\u200b",
    "'; DROP TABLE events; --",
    "<script>",
    "%s%n",
    "\ud800",  # a lone surrogate: not UTF-8, so not JSON a server must read
)
JSON_TOKENS = (
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"\\",
    b"null",
    b"true",
    b"-",
    b"0",
    b"1e309",
    b"\\u",
    b"\\ud800",
    b" ",
    b"\x00",
    b"\xff",
    b"99999999999999999999",
)
SERVER_TYPES = ("welcome", "units", "snapshot", "delta", "kpis", "result", "error")


class FrameMaker:
    """Makes the next frame for a connection, given what its oracle knows."""

    def __init__(self, rng: random.Random, points: Sequence[dict[str, Any]], events: int) -> None:
        self.rng = rng
        self.points = list(points)  # report args at real places (so some reports succeed)
        self.events = events
        self.categories = sorted({str(p["category"]) for p in points})

    # ---- values ------------------------------------------------------------------------------

    def text(self, low: int = 0, high: int = 40) -> str:
        """A string: mostly plain, sometimes odd, now and then at or past a length limit."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            n = rng.randint(max(low, 1), max(high, 1))
            return "".join(rng.choice("可靠性测试菱湖abc123 ") for _ in range(n))
        if roll < 0.8:
            return "".join(rng.choice(ODD_TEXT) for _ in range(rng.randint(1, 4)))
        if roll < 0.9:
            return ""
        return "长" * rng.choice((199, 200, 201, 2000, 2001))

    def number(self) -> Any:
        rng = self.rng
        return rng.choice(
            (
                0,
                -1,
                1,
                rng.randint(1, self.events + 5),
                2**63,
                10**30,
                1.5,
                -0.0,
                1e308,
                rng.uniform(-200, 200),
                True,
                None,
                "1",
            )
        )

    def junk(self, depth: int = 0) -> Any:
        """Any JSON value."""
        rng = self.rng
        roll = rng.random()
        if depth > 2 or roll < 0.4:
            return self.number()
        if roll < 0.7:
            return self.text()
        if roll < 0.85:
            return [self.junk(depth + 1) for _ in range(rng.randint(0, 3))]
        return {self.text(1, 8): self.junk(depth + 1) for _ in range(rng.randint(0, 3))}

    def valid(self, t: Any, name: str) -> Any:
        """A value that fits a msgspec type (mostly; a constraint may still be missed)."""
        rng = self.rng
        i = msgspec.inspect
        if name in ("event", "alert") and isinstance(t, i.IntType):
            return rng.randint(1, self.events + 3)
        if name == "category" and self.categories and rng.random() < 0.7:
            return rng.choice(self.categories)
        if isinstance(t, i.IntType):
            low = t.ge if t.ge is not None else -(10**6)
            high = t.le if t.le is not None else 10**6
            return rng.randint(low, high)
        if isinstance(t, i.FloatType):
            floor = t.ge if t.ge is not None else (t.gt or 0) + 1e-6
            ceiling = t.le if t.le is not None else 1e9
            return rng.uniform(floor, ceiling)
        if isinstance(t, i.StrType):
            return self.text(t.min_length or 0, min(t.max_length or 40, 40))
        if isinstance(t, i.BoolType):
            return rng.random() < 0.5
        if isinstance(t, i.LiteralType):
            return rng.choice(t.values)
        if isinstance(t, i.ListType):
            return [self.valid(t.item_type, "") for _ in range(rng.randint(0, 3))]
        if isinstance(t, i.UnionType):
            return self.valid(rng.choice(t.types), name)
        if isinstance(t, i.NoneType):
            return None
        return self.junk()

    def batch(self) -> dict[str, Any]:
        """A report_batch's args (§7.4): reports at real places or not, external ids new,
        repeated or bad, now and then a report that is not one."""
        rng = self.rng
        reports: list[Any] = []
        for _ in range(rng.choice((0, 1, 2, 5, 20))):
            report: Any = dict(self.args("report"))
            report["external_id"] = rng.choice(
                (uuid.uuid4().hex[:12], "GW-1", "GW-2", "", "x" * 65, "a\nb")
            )
            reports.append(report if rng.random() < 0.9 else self.junk())
        return {"reports": reports}

    def args(self, op: str) -> dict[str, Any]:
        """Args for an op: valid ones, or broken in one place."""
        rng = self.rng
        if op == "report_batch":
            return self.batch()
        if op == "report" and self.points and rng.random() < 0.5:
            args = dict(rng.choice(self.points))
            args["title"] = f"模糊测试 {uuid.uuid4().hex[:8]}"
        else:
            info = msgspec.inspect.type_info(ARGS[op])
            assert isinstance(info, msgspec.inspect.StructType)
            args = {
                f.name: self.valid(f.type, f.name)
                for f in info.fields
                if f.required or rng.random() < 0.4
            }
        roll = rng.random()
        if roll < 0.55 or not args:
            return args
        key = rng.choice(sorted(args))
        if roll < 0.7:
            del args[key]  # a required field missing, or an optional one left out
        elif roll < 0.85:
            args[key] = self.junk()
        else:
            args[self.text(1, 10)] = self.junk()  # an unknown field
        return args

    # ---- messages ----------------------------------------------------------------------------

    def next_id(self, oracle: Oracle) -> Any:
        """Mostly the next ids; now and then a stale one, an equal one, an odd one."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.85:
            return oracle.last_id + rng.randint(1, 3)
        if roll < 0.93:
            return oracle.last_id - rng.randint(0, 3)
        return rng.choice((0, -5, 2.5, str(oracle.last_id + 1), None, True))

    def message(self, oracle: Oracle) -> dict[str, Any]:
        """A message of some kind, well-formed unless its id or args say otherwise."""
        rng = self.rng
        kind = rng.choices(
            ("ping", "stats", "history", "command", "admin", "hello"),
            (12, 6, 6, 30, 3, 2),
        )[0]
        request_id = self.next_id(oracle)
        if kind == "ping":
            return {"id": request_id, "type": "ping"}
        if kind == "stats":
            message = {"id": request_id, "type": "stats", "by": rng.choice(BY)}
            if rng.random() < 0.5:
                message["period"] = rng.choice(PERIODS)
            return message
        if kind == "history":
            event = rng.choice((rng.randint(1, self.events + 10), 0, -1))
            return {"id": request_id, "type": "history", "event": event}
        if kind == "admin":
            return self.admin(rng.choice((*ADMIN, "roster")), request_id)
        if kind == "hello":
            return {"id": request_id, "type": "hello", "protocol": 1, "token": "x" * 43}
        return self.command(oracle, request_id)

    def admin(self, kind: str, request_id: Any) -> dict[str, Any]:
        """An admin request (§6.9-6.11) with plausible fields."""
        rng = self.rng
        message: dict[str, Any] = {"id": request_id, "type": kind}
        person = {"name": self.text(1, 6), "title": self.text(0, 6)}
        if rng.random() < 0.5:
            person["phone"] = rng.choice(("13912345678", "0556-5512345", "12345"))
        day = rng.choice(("2026-12-03", "2027-01-01", "2020-01-01", "2026-13-40", "明天"))
        if kind in ("create_user", "update_user", "revoke_user"):
            message["name"] = self.text(1, 10)
        if kind == "create_user":
            message["role"] = rng.choice(("street", "admin", "emperor"))
            message["streets"] = ["340803004"]
            if rng.random() < 0.3:
                message["display_name"] = self.text(0, 8)
        elif kind == "update_user":
            if rng.random() < 0.5:
                message["role"] = rng.choice(("street", "admin", "emperor", None))
            if rng.random() < 0.5:
                message["streets"] = ["340803004"]
            message["whole_district"] = rng.random() < 0.2
            message["new_token"] = rng.random() < 0.5
            if rng.random() < 0.3:
                message["display_name"] = rng.choice((self.text(0, 8), None))
        elif kind == "roster":
            message |= {"first": day, "last": rng.choice((day, "2027-12-31", "x"))}
        elif kind == "set_roster":
            message["day"] = day
            if rng.random() < 0.7:
                message["commander"] = person
                message["roster"] = [person] * rng.randint(0, 2)
        elif kind == "set_category":
            message |= {"code": "01-02", "name": self.text(1, 6), "standard": self.text(1, 9)}
            message |= {"priority": rng.randint(0, 5), "department": "CGJ"}
            message["limits"] = {"accept": "30m", "dispatch": "1h", "handle": "4h", "verify": "1h"}
        elif kind == "load_categories":
            message |= {"file": "t.json", "content": self.text(0, 20), "check": rng.random() < 0.5}
        return message

    def command(self, oracle: Oracle, request_id: Any) -> dict[str, Any]:
        """A command: an op of the registry (or not), a fresh command_id (or an old one, or
        one out of bounds), args valid or broken."""
        rng = self.rng
        op = rng.choice(sorted(ARGS)) if rng.random() < 0.93 else self.text(1, 12)
        command_id = uuid.uuid4().hex
        roll = rng.random()
        answered = oracle.registry.answered
        if roll < 0.12 and answered:
            command_id = rng.choice(answered)
            stored = oracle.registry[command_id]
            if rng.random() < 0.7:  # the same command again: a repeat (or a conflict)
                return {
                    "id": request_id,
                    "type": "command",
                    "command_id": command_id,
                    "op": stored.op,
                    "args": json.loads(stored.args),
                }
        elif roll < 0.16:
            command_id = rng.choice(("", "x" * 64, "x" * 65, "同" * 64, "同" * 65))
        message = {"id": request_id, "type": "command", "command_id": command_id, "op": op}
        if op in ARGS and (rng.random() < 0.9 or op == "report"):
            message["args"] = self.args(op)
        elif rng.random() < 0.5:
            message["args"] = self.junk()
        return message

    def broken(self, message: dict[str, Any]) -> dict[str, Any]:
        """The message with its envelope broken in one place."""
        rng = self.rng
        message = dict(message)
        roll = rng.random()
        if roll < 0.25 and len(message) > 1:
            del message[rng.choice(sorted(message))]
        elif roll < 0.45:
            message[rng.choice(("x", "ID", "args", "token", "seq", self.text(1, 6)))] = self.junk()
        elif roll < 0.7:
            message[rng.choice(sorted(message))] = self.junk()
        elif roll < 0.85:
            message["type"] = rng.choice((*SERVER_TYPES, "PING", "", "hello ", "command\x00"))
        else:
            message["id"] = rng.choice((1.0, "7", None, [], {}, True, 10**40, -(10**40)))
        return message

    # ---- bytes -------------------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        """JSON as a client might write it: compact or spaced, escaped or not."""
        rng = self.rng
        separators = (",", ":") if rng.random() < 0.5 else (", ", ": ")
        text = json.dumps(value, ensure_ascii=rng.random() < 0.3, separators=separators)
        return text.encode("utf-8", "surrogatepass")

    def mutate(self, raw: bytes) -> bytes:
        """One to four byte-level mutations."""
        rng = self.rng
        data = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(8)
            pos = rng.randint(0, len(data)) if data else 0
            if op == 0 and data:
                data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
            elif op == 1:
                data[pos:pos] = rng.choice(JSON_TOKENS)
            elif op == 2 and data:
                del data[pos : pos + rng.randint(1, 8)]
            elif op == 3 and data:
                end = min(len(data), pos + rng.randint(1, 16))
                data[pos:pos] = data[pos:end]
            elif op == 4:
                del data[pos:]
            elif op == 5:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
            elif op == 6:
                data[pos:pos] = rng.choice(string.whitespace).encode()
            else:
                digits = str(rng.choice((10**19, 2**64, -(2**63) - 1, 10**400))).encode()
                data[pos:pos] = digits
        return bytes(data)

    def frame(self, oracle: Oracle) -> tuple[bytes, bool]:
        """The next frame, and whether to send it as a binary message (§1: decoded too)."""
        rng = self.rng
        message = self.message(oracle)
        roll = rng.random()
        if roll < 0.55:
            raw = self.encode(message)
        elif roll < 0.75:
            raw = self.encode(self.broken(message))
        elif roll < 0.96:
            raw = self.mutate(self.encode(message))
        elif roll < 0.985:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        elif roll < 0.995:
            # Right at the size limit: exactly 65,536 bytes is accepted, one more is not.
            body = self.encode(message)
            raw = body + b" " * max(0, 65_536 - len(body) + rng.choice((0, 0, 1)))
        else:
            raw = b"[" * 100_000 + b"]" * 100_000  # deep, and over the limit anyway
        binary = rng.random() < 0.1
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            binary = True  # a text message must be UTF-8: this can only go as binary
        return raw, binary

    def first(self, tokens: Sequence[str], epoch: str, head: int, reference: str) -> bytes:
        """A connection's first message: a hello, right or wrong in one place, or not one."""
        rng = self.rng
        hello: dict[str, Any] = {
            "id": 1,
            "type": "hello",
            "protocol": 1,
            "token": rng.choice(tokens),
        }
        if rng.random() < 0.9:
            hello["reference"] = reference  # cached units: not sent again
        if rng.random() < 0.3:
            hello["resume"] = {
                "epoch": rng.choice((epoch, "0123456789abcdef")),
                "seq": rng.choice((0, head, head + 10**6, -1, rng.randint(0, max(head, 1)))),
            }
        if rng.random() < 0.3:
            hello["client"] = self.text()
        roll = rng.random()
        if roll < 0.3:
            pass
        elif roll < 0.45:
            hello["protocol"] = rng.choice((0, 2, -1, 10**20))
        elif roll < 0.6:
            hello["token"] = rng.choice(("", "nope", "x" * 201, tokens[0] + " "))
        elif roll < 0.8:
            hello = self.broken(hello)
        elif roll < 0.9:
            return self.mutate(self.encode(hello))
        else:
            return self.encode(
                {"id": 1, "type": rng.choice(("ping", "users", "stats")), "by": "street"}
            )
        return self.encode(hello)
