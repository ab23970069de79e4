"""The document's example session (§16) and everything shown from the same backend — the
reference examples of §3-§6.7, the handshake refusals, the HTTP transcript and the
terminal session of "Watching with a generic websocket client" — played against a real
backend holding the same morning (world.py), each frame compared (match.py)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus

from dispatch.server import Limits
from protocol.codec import ProtocolError, decode_client
from tests.protocol.doc import world as w
from tests.protocol.doc.extract import Document, Frame
from tests.protocol.doc.live import Conn, Report, exchange, find
from tests.protocol.doc.match import Env, match, prefix_problems

REFERENCE_SECTIONS = (
    "3. Handshake",
    "3.1 units",
    "4.1 snapshot",
    "4.2 delta",
    "4.3 kpis",
    "5. Recovery: resume, replay, reset",
    "6.1 The command message",
    "6.6 ping",
)


@dataclasses.dataclass
class Session:
    """One run of the example session against the world."""

    doc: Document
    world: w.World
    report: Report
    env: Env = dataclasses.field(default_factory=Env)
    transcript: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    units: dict[str, bytes] = dataclasses.field(default_factory=dict)  # user → raw units
    spares: int = 0  # detections made to move the head on

    def token(self, user: str) -> str:
        """A demo user's token."""
        return self.world.tokens[user]

    async def conn(self, path: str = "/") -> Conn:
        """A new connection to the world's backend."""
        return await Conn.open(self.world.port, self.transcript, path)

    async def play(self, conn: Conn, frames: list[Frame], user: str) -> list[Any]:
        """Exchange the frames on a connection of `user`."""
        return await exchange(conn, frames, self.env, self.token(user), self.report)

    def problem(self, section: str, text: str) -> None:
        """Note a difference that is not a frame's."""
        self.report.add(section, [text])

    async def simulator(self, section: str, doc_seqs: list[int]) -> list[int]:
        """Changes by others, as the simulator makes them between the document's steps: a
        camera detection in 龙山路街道, a grid worker's `handled` in 集贤路街道, a dispatch in
        玉琳路街道 (as many as `doc_seqs`, which the document's seqs are bound to)."""
        ref, world = self.world.reference, self.world
        now = world.server.clock.now()
        handling, accepted = world.events_of()
        kinds = [
            lambda: world.spare_detection(0, 0.81),
            lambda: w.command(
                w.worker(ref, handling.grid),
                "handled",
                w.c.EventRef(event=handling.id, note="已处置完毕。"),
                now,
            ),
            lambda: w.command(
                w.staff(ref, accepted.street),
                "dispatch",
                w.c.Dispatch(
                    event=accepted.id, assignee=f"网格员 {ref.grids[accepted.grid].worker}"
                ),
                now,
            ),
        ]
        seqs = []
        for make in kinds[-len(doc_seqs) :]:
            answer = (await world.submit(make()))[0]
            assert answer.seq is not None
            seqs.append(answer.seq)
        for doc_seq, seq in zip(doc_seqs, seqs, strict=True):
            problem = self.env.bind("seq", doc_seq, seq)
            if problem:
                self.problem(section, f"the simulator's changes: {problem}")
        return seqs

    async def detection(self) -> None:
        """One more change by the simulator (a new alert), so the head moves."""
        self.spares += 1
        await self.world.submit(self.world.spare_detection(self.spares, 0.77))


async def run(doc: Document, world: w.World, report: Report) -> Session:
    """The whole session, in the document's order where the document's seqs require it."""
    s = Session(doc, world, report)
    commander = await first_connection(s)
    await the_commands(s, commander)
    await twice_at_once(s, commander)
    await commander.close()
    await meanwhile(s)
    await replay(s)
    await reset(s)
    await cached_units(s)
    await street_and_wall(s)
    reference_sections(s)
    await refusals(s)
    await http_transcript(s)
    await terminal_session(s)
    s.report.add(doc.title("A complete example session"), s.env.order_problems())
    return s


async def first_connection(s: Session) -> Conn:
    """ "Connect and hello", "The units", "The snapshot": the commander's first connection."""
    conn = await s.conn()
    await s.play(conn, s.doc.in_section("Connect and hello"), "demo-commander")
    await s.play(conn, s.doc.in_section(s.doc.title("The units (")), "demo-commander")
    start = len(s.transcript)
    await s.play(conn, s.doc.in_section(s.doc.title("The snapshot (")), "demo-commander")
    units = [raw for raw, v in s.transcript[:start] if v.get("type") == "units"]
    if units:
        s.units["demo-commander"] = units[-1].encode()
    return conn


async def the_commands(s: Session, conn: Conn) -> None:
    """From "Report a new event" to the KPIs after "A malformed frame, a stale id, a ping"."""
    for title in (
        "Report a new event",
        "Accept and dispatch",
        "A retry: same command_id → repeat",
        "The same command_id for something else → conflict",
        "A step the workflow refuses",
        "A malformed frame, a stale id, a ping",
    ):
        await s.play(conn, s.doc.in_section(title), "demo-commander")


async def twice_at_once(s: Session, conn: Conn) -> None:
    """ "The same command twice at once", then the simulator's changes the commander sees
    before it disconnects (their seqs are named in the paragraph after the example)."""
    title = "The same command twice at once"
    await s.play(conn, s.doc.in_section(title), "demo-commander")
    paragraph = s.doc.paragraph(
        re.search(r"\n(\w+ changes? by the simulator)", s.doc.section_text(title)).group(1)
    )  # type: ignore[union-attr]
    doc_seqs = [int(n) for n in re.findall(r"seq (\d+)", paragraph)]
    seqs = await s.simulator(title, doc_seqs)
    for seq in seqs:
        got = await conn.recv()
        if got is None or got[1].get("seq") != seq:
            s.problem(title, f"the commander did not receive the simulator's change {seq}: {got}")
    last = re.search(r"The last delta it applied is seq \*\*(\d+)\*\*", s.doc.section_text(title))
    if last is None or s.env.forward.get(("seq", int(last.group(1)))) != seqs[-1]:
        s.problem(title, "the last seq applied is not the simulator's last change")


async def meanwhile(s: Session) -> None:
    """ "Meanwhile, another user works on the event": the dispatcher's connection."""
    title = "Meanwhile, another user works on the event"
    conn = await s.conn()
    await conn.hello(s.token("demo-dispatcher"))
    welcome = await conn.until("welcome")
    await conn.until("snapshot")
    at = re.search(r"snapshot at seq (\d+)", s.doc.section_text(title))
    if at is None or s.env.forward.get(("seq", int(at.group(1)))) != welcome["head"]:
        s.problem(title, f"the dispatcher's snapshot is at {welcome['head']}, not the seq named")
    await s.play(conn, s.doc.in_section(title), "demo-dispatcher")
    await conn.close()


async def replay(s: Session) -> None:
    """ "Reconnect with resume → replay", and the extension decided on that connection."""
    conn = await s.conn()
    await s.play(conn, s.doc.in_section("Reconnect with resume → replay"), "demo-commander")
    await conn.close()


async def cached_units(s: Session) -> None:
    """ "Connecting with cached units" (captured after the rest: the later head), and the
    `stats` request of §6.7 on that connection."""
    conn = await s.conn()
    await s.play(conn, s.doc.in_section("Connecting with cached units"), "demo-commander")
    await s.play(conn, s.doc.in_section("6.7 stats"), "demo-commander")
    await conn.close()


async def reset(s: Session) -> None:
    """ "Resume that cannot be replayed → reset": each block on a connection of its own."""
    for frames in s.doc.by_block("Resume that cannot be replayed → reset"):
        conn = await s.conn()
        await s.play(conn, frames, "demo-commander")
        await conn.close()


async def street_and_wall(s: Session) -> None:
    """ "A street user and the wall": hellos not shown; the wall's welcome not either."""
    title = "A street user and the wall"
    street, wall = s.doc.by_block(title)
    conn = await s.conn()
    await conn.hello(s.token("demo-linghu"))
    start = len(s.transcript)
    await s.play(conn, street, "demo-linghu")
    units = [raw for raw, v in s.transcript[start:] if v.get("type") == "units"]
    if units:
        s.units["demo-linghu"] = units[-1].encode()
    await conn.close()
    conn = await s.conn()
    await conn.hello(s.token("demo-wall"))
    await conn.until("snapshot")
    await s.play(conn, wall, "demo-wall")
    await conn.close()


def reference_sections(s: Session) -> None:
    """§3-§6.6 show frames of the same session: each client frame must be one the server
    accepts (its varying values those of the session), each server frame one it sent."""
    for title in REFERENCE_SECTIONS:
        for frame in s.doc.in_section(title):
            s.report.checked.add(frame.line)
            if frame.direction == "<":
                s.report.add(title, find(frame, s.transcript, s.env))
                continue
            problems = [
                f"{frame.where()}: {p} is in no frame of the session"
                for p in s.env.unbound(frame.value)
            ]
            try:
                decode_client(
                    json.dumps(s.env.to_actual(frame.value, "t" * 43), ensure_ascii=False)
                )
            except ProtocolError as exc:
                problems.append(f"{frame.where()}: the server refuses it: {exc.message}")
            s.report.add(title, problems)


# ---- refusals, HTTP, the terminal session ------------------------------------------------


async def refused_with(
    s: Session, first: str | bytes | None, path: str = "/"
) -> tuple[int | None, str]:
    """Connect, send a first message (None: nothing) and wait for the close: (code, reason);
    for an upgrade refused over HTTP, (status, body)."""
    try:
        conn = await s.conn(path)
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body.decode().strip()
    if first is not None:
        with contextlib.suppress(ConnectionClosed):  # (closed before the hello: 4006)
            await conn.ws.send(first)
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        await asyncio.wait_for(conn.ws.recv(), 5)
    await conn.ws.wait_closed()
    return conn.ws.close_code, conn.ws.close_reason or ""


def _hello(**fields: Any) -> str:
    return json.dumps({"id": 1, "type": "hello", "protocol": 1, **fields})


async def refusal(s: Session, sent: str) -> tuple[int | None, str] | None:
    """What the server does with a first message of the refusals table (None: no such row
    is known to this test: add it here)."""
    token = s.token("demo-commander")
    cases: dict[str, Any] = {
        "`hello` with token `nope`": _hello(token="nope"),
        '`hello` with `"protocol": 2`': json.dumps(
            {"id": 1, "type": "hello", "protocol": 2, "token": token}
        ),
        '`{"id": 1, "type": "ping"}` first': '{"id": 1, "type": "ping"}',
        "`hello?` first": "hello?",
        "`hello` without `token`": _hello(),
        '`hello` with `"reference": 5`': _hello(token=token, reference=5),
        "a 65,537-byte first message": _hello(token=token, client="x" * 65537)[:65537],
    }
    if sent in cases:
        return await refused_with(s, cases[sent])
    if sent == "nothing for 10 s":
        handshake = s.world.server.handshake
        assert handshake is not None
        limits = handshake.limits
        handshake.limits = dataclasses.replace(limits, hello_timeout=0.2)  # not 10 s here
        try:
            return await refused_with(s, None)
        finally:
            handshake.limits = limits
    upgrade = re.fullmatch(r"upgrade to `ws://127\.0\.0\.1:\d+(/\S*)`", sent)
    if upgrade:
        return await refused_with(s, None, upgrade.group(1))
    caps = {
        "the user's connections at its cap": "connections_per_user",
        "the server full": "connections",
    }
    if sent in caps:
        # The caps lowered to none for the moment: the next connection is one too many.
        server = s.world.server
        limits = server.limits
        server.limits = dataclasses.replace(limits, **{caps[sent]: 0})
        try:
            return await refused_with(s, _hello(token=s.token("demo-wall")))
        finally:
            server.limits = limits
    return None


def _code_span(text: str) -> str:
    """The text of a Markdown code span (`x` or `` x ``)."""
    found = re.fullmatch(r"(`+)\s?(.*?)\s?\1", text.strip())
    assert found is not None, text
    return found.group(2)


async def refusals(s: Session) -> None:
    """ "Refusals at the handshake (same backend)" and the table of §3: each row provoked."""
    title = "Refusals at the handshake (same backend)"
    for sent, result in s.doc.table(title):
        got = await refusal(s, sent)
        if got is None:
            s.problem(title, f"no test provokes the row {sent!r}")
            continue
        shown = re.fullmatch(r"(close|HTTP) (\d+) (`.*`)( \(after ([\d.]+) s\))?", result)
        if shown is None:
            s.problem(title, f"unreadable result {result!r}")
            continue
        expected = (int(shown.group(2)), _code_span(shown.group(3)))
        if got != expected:
            s.problem(title, f"{sent}: the document says {expected}, the server did {got}")
        if shown.group(5) and float(shown.group(5)) != Limits().hello_timeout:
            s.problem(title, f"the handshake window is {Limits().hello_timeout} s")
    # §3's table says the same by situation.
    title = "3. Handshake"
    limits = Limits()
    rows = {
        "nothing received": "nothing for 10 s",
        "not valid JSON": "`hello?` first",
        "valid message of another type": '`{"id": 1, "type": "ping"}` first',
        "`protocol` is not 1": '`hello` with `"protocol": 2`',
        "unknown, revoked or malformed token": "`hello` with token `nope`",
        f"the user has {limits.connections_per_user} connections open already": (
            "the user's connections at its cap"
        ),
        f"the server has {limits.connections} connections open already": "the server full",
        "larger than 64 KiB": "a 65,537-byte first message",
    }
    for situation, code, reason in s.doc.table(title, 1):
        sent = next((v for k, v in rows.items() if k in situation), None)
        got = await refusal(s, sent) if sent else None
        if got is None:
            s.problem(title, f"no test provokes the refusal {situation!r}")
            continue
        pattern = (
            re.escape(_code_span(reason)).replace("<decoder\\ message>", ".+").replace("N", r"\d+")
        )
        if got[0] != int(code.strip("*")) or not re.fullmatch(pattern, got[1]):
            s.problem(
                title, f"{situation}: the document says {code} {reason}, the server did {got}"
            )
    # §1: a message of exactly 64 KiB is accepted.
    hello = _hello(token=s.token("demo-wall"), reference=s.env.actual("version", _version(s)))
    exact = hello[:-1] + ', "client": "' + "x" * (65536 - len(hello) - 14) + '"}'
    conn = await s.conn()
    await conn.ws.send(exact)
    got = await conn.recv()
    welcomed = len(exact.encode()) == 65536 and got is not None and got[1]["type"] == "welcome"
    s.report.add(
        "1. Transport", [] if welcomed else [f"a hello of 65,536 bytes was not welcomed: {got}"]
    )
    await conn.close()


def _version(s: Session) -> str:
    """The document's units version of the district-wide users (of its first units)."""
    frame = s.doc.in_section(s.doc.title("The units ("))[0]
    return str(frame.value["version"])


async def http_get(port: int, path: str, token: str | None = None) -> tuple[list[str], bytes]:
    """A plain GET as curl sends it: the status line and header lines, and the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: curl/8\r\nAccept: */*\r\n"
    )
    writer.write(f"{request}{auth}\r\n".encode())
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode().split("\r\n"), body


async def http_transcript(s: Session) -> None:
    """The curl commands of "Refusals at the handshake (same backend)" (once every
    connection is closed: `clients=0`, and the head has moved on) and of §14's /health
    (with as many clients attached as it shows)."""
    title = "Refusals at the handshake (same backend)"
    hub = s.world.server.hub
    assert hub is not None
    for _ in range(200):
        if not hub.clients:
            break
        await asyncio.sleep(0.01)
    await s.detection()
    block = next(b for b in s.doc.blocks_in(title) if b.lines[0].startswith("$ curl"))
    s.report.add(title, await curl_block(s, block.lines))
    # The street user sees only its street's images (the paragraph after the transcript).
    linghu = s.token("demo-linghu")
    for path, status in (
        ("/snapshots/1", "404"),
        ("/snapshots/14", "200"),
        ("/snapshots/14.svg", "200"),
    ):
        lines, _ = await http_get(s.world.port, path, linghu)
        if lines[0].split()[1] != status:
            s.problem(title, f"{path} with the street user's token: {lines[0]}, not {status}")
    shown = s.doc.blocks_in("GET /health")[0].lines
    clients = [int(n) for n in re.findall(r"clients=(\d+)", "\n".join(shown))]
    conns = []
    for user in ("demo-wall", "demo-commander", "demo-dispatcher")[: max(clients, default=0)]:
        conns.append(await s.conn())
        await conns[-1].hello(s.token(user), reference=s.env.actual("version", _version(s)))
        await conns[-1].until("snapshot")
    s.report.add("GET /health", await curl_block(s, list(shown)))
    for conn in conns:
        await conn.close()


async def curl_block(s: Session, block: list[str]) -> list[str]:
    """Run the curl commands of a block (each line `$ curl …` and its output)."""
    commands: list[tuple[str, list[str]]] = []
    for line in block:
        if line.startswith("$ "):
            commands.append((line, []))
        else:
            commands[-1][1].append(line)
    problems = []
    for command, shown in commands:
        found = re.fullmatch(
            r"\$ curl -s(i?) (?:-H \"Authorization: Bearer <token>\" )?'?http://127\.0\.0\.1:\d+(\S+?)'?",
            command,
        )
        assert found is not None, command
        token = s.token("demo-commander") if "Bearer" in command else None
        lines, body = await http_get(s.world.port, found.group(2), token)
        problems += [
            f"{command}: {p}" for p in http_problems(s, found.group(1) == "i", shown, lines, body)
        ]
    return problems


def http_problems(
    s: Session, headers: bool, shown: list[str], lines: list[str], body: bytes
) -> list[str]:
    """An HTTP answer against curl's output in the document: the status line and headers
    (with -i), then the body; a head= figure is a bound seq, the tasks= and ring= figures and the
    image's length their own, and a body shown ending in `…` is a prefix."""
    problems = []
    if headers:
        split = shown.index("")
        shown_head, shown_body = shown[:split], shown[split + 1 :]
        for n, (a, b) in enumerate(zip(shown_head, lines, strict=False)):
            if a.startswith("Content-Length: ") and "image" in "".join(shown_head):
                a = f"Content-Length: {len(body)}"  # the picture's size is the alert's own
            if a != b:
                problems.append(f"header line {n}: shown {a!r}, sent {b!r}")
        if len(shown_head) != len(lines):
            problems.append(f"headers shown {shown_head}, sent {lines}")
    else:
        shown_body = shown
    text = "\n".join(shown_body)
    sent = body.decode()
    for found in re.finditer(r"head=(\d+)", text):
        actual = re.search(r"head=(\d+)", sent)
        problem = s.env.bind("seq", int(found.group(1)), int(actual.group(1)) if actual else None)
        if problem:
            problems.append(problem)
        text = text.replace(found.group(0), f"head={actual.group(1) if actual else '?'}", 1)
    # The number of the backend's tasks and the ring's bytes are its own at the moment (the
    # tasks are checked apart; the ring is a byte count, its size the frames' own).
    for name in ("tasks", "ring"):
        figure = re.search(rf"{name}=(\d+)", sent)
        if figure is not None:
            text = re.sub(rf"{name}=\d+", figure.group(0), text)
    if text.endswith(" …"):
        if not sent.startswith(text[:-2]):
            problems.append(f"body shown {text!r}, sent {sent[:200]!r}")
    elif text != sent.rstrip("\n"):
        problems.append(f"body shown {text!r}, sent {sent!r}")
    return problems


async def terminal_session(s: Session) -> None:
    """ "Watching with a generic websocket client": the demo-wall session typed into the
    websockets CLI (long lines cut at `…`: compared as prefixes of the server's text)."""
    title = "Watching with a generic websocket client"
    await s.detection()
    typed, session = s.doc.by_block(title)
    conn = await s.conn()
    for frame in session:
        s.report.checked.add(frame.line)
        if frame.direction == ">":
            await conn.send(s.env.to_actual(frame.value, s.token("demo-wall")))
            continue
        got = await conn.recv()
        if got is None:
            s.problem(title, f"{frame.where()}: the server sent nothing")
        elif frame.cut:
            s.report.add(
                title, [f"{frame.where()}: {p}" for p in prefix_problems(frame.raw, got[0], s.env)]
            )
        else:
            s.report.add(
                title, [f"{frame.where()}: {p}" for p in match(frame.value, got[1], s.env)]
            )
    await conn.close()
    if (
        "Connection closed: 1000 (OK)." not in "\n".join(s.doc.blocks_in(title)[1].lines)
        or conn.ws.close_code != 1000
    ):
        s.problem(title, f"the session does not end with 1000: {conn.ws.close_code}")
    # The hello typed is the one `./tg dispatch hello` prints (checked in test_cli_examples).
    for frame in typed:
        s.report.checked.add(frame.line)
        if frame.value != session[0].value:
            s.problem(title, f"{frame.where()}: not the hello of the session below")
