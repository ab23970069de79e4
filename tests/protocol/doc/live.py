"""Talking to a running backend the way the document's examples do, and keeping score:
which example frames were compared with what the server sent, and what differed."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.protocol.doc.extract import Frame
from tests.protocol.doc.match import Env, match

PATIENCE = 3.0  # seconds to wait for a frame the document shows


@dataclass
class Report:
    """What the runs found: problems by section (title → texts), and the lines of the
    example frames that were compared with the server."""

    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    checked: set[int] = field(default_factory=set)
    visited: set[str] = field(default_factory=set)

    def add(self, section: str, problems: list[str]) -> None:
        """Note a section as checked, with what differed."""
        self.visited.add(section)
        self.problems[section].extend(problems)


@dataclass
class Conn:
    """A websocket client; every message it receives goes to the transcript too."""

    ws: ClientConnection
    transcript: list[tuple[str, Any]]
    latest: float = 0.0  # the latest district time a message other than kpis carried

    @classmethod
    async def open(cls, port: int, transcript: list[tuple[str, Any]], path: str = "/") -> Conn:
        """Connect as the document says a client should: no size limit, no compression."""
        ws = await connect(f"ws://127.0.0.1:{port}{path}", max_size=None, compression=None)
        return cls(ws, transcript)

    async def send(self, message: Any) -> None:
        """Send a message (a dict), or text as it is."""
        text = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
        await self.ws.send(text)

    async def hello(self, token: str, **fields: Any) -> None:
        """A plain hello, for connections whose hello the document does not show."""
        await self.send({"id": 1, "type": "hello", "protocol": 1, "token": token, **fields})

    async def recv(
        self, kpis: bool = False, timeout: float = PATIENCE, skip: tuple[str, ...] = ()
    ) -> tuple[str, Any] | None:
        """The next message (`kpis` ones skipped unless one is wanted, and those of the
        types in `skip`); None on silence."""
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), timeout)
            except TimeoutError:
                return None
            assert isinstance(raw, str), "the server sends text"
            value = json.loads(raw)
            self.transcript.append((raw, value))
            # Deadline risks come every few seconds when a model has been trained (§4.4,
            # played by tests/protocol/test_risk_doc.py): never part of an exchange here.
            if value.get("type") in skip or value.get("type") == "risk":
                continue
            if value.get("type") == "kpis":
                if not kpis:
                    continue
            else:
                data = value.get("data")
                times = (
                    value.get("at"),
                    value.get("server_time"),
                    isinstance(data, dict) and data.get("server_time"),
                )
                self.latest = max([self.latest, *(t for t in times if isinstance(t, float))])
            return raw, value

    async def until(self, kind: str) -> Any:
        """Read (unchecked) up to and including the first message of this type."""
        while True:
            got = await self.recv()
            assert got is not None, f"no {kind} came"
            if got[1]["type"] == kind:
                return got[1]

    async def close(self) -> None:
        """Close normally (1000)."""
        await self.ws.close()


async def exchange(
    conn: Conn,
    frames: list[Frame],
    env: Env,
    token: str,
    report: Report,
    placeholders: dict[str, str] | None = None,
    skip: tuple[str, ...] = (),
) -> list[Any]:
    """Play a run of the document's frames on one connection: send the client's (bound
    values replaced by the server's, `<token>` by the token, other `<…>` placeholders by
    what `placeholders` gives), compare each server frame with the next message received
    (pushed messages of the types in `skip` passed over). Returns what was received."""
    received = []
    for frame in frames:
        report.checked.add(frame.line)
        if frame.direction == ">":
            if frame.value is None:
                await conn.send(frame.raw)
            else:
                await conn.send(env.to_actual(frame.value, token, placeholders=placeholders))
            continue
        want_kpis = frame.value.get("type") == "kpis"
        got = await conn.recv(kpis=want_kpis, skip=skip)
        while (
            want_kpis
            and got is not None
            and got[1].get("type") == "kpis"
            and got[1]["at"] < conn.latest
        ):
            got = await conn.recv(kpis=True, timeout=6.0)  # a fresh one: at least every 5 s
        if got is None:
            report.add(
                frame.section,
                [f"{frame.where()}: the server sent nothing (shown: {frame.raw[:80]})"],
            )
            continue
        received.append(got[1])
        problems = match(frame.value, got[1], env)
        report.add(frame.section, [f"{frame.where()}: {p}" for p in problems])
    return received


def find(frame: Frame, transcript: list[tuple[str, Any]], env: Env) -> list[str]:
    """A server frame of a reference section (§3-§6), compared with the message of the
    session it shows: the first received message it matches (bindings included)."""
    closest: list[str] | None = None
    for _, value in transcript:
        if value.get("type") != frame.value.get("type"):
            continue
        trial = env.copy()
        problems = match(frame.value, value, trial)
        if not problems:
            env.adopt(trial)
            return []
        if closest is None or len(problems) < len(closest):
            closest = problems
    kind = frame.value.get("type")
    return [f"{frame.where()}: matches no {kind} the server sent; closest:", *(closest or [])[:6]]
