"""A terminal client that prints the live stream readably (and shows how a client behaves)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.uri import parse_uri

from dispatch.reference import local
from protocol.codec import decode_server, encode
from protocol.entities import Alert, Duty, Event
from protocol.messages import (
    Categories,
    Delta,
    Error,
    Hello,
    Kpis,
    Resume,
    Snapshot,
    Units,
    Welcome,
)

STATUS_ZH = {
    "reported": "上报",
    "accepted": "受理",
    "rejected": "不予受理",
    "dispatched": "派遣",
    "handling": "处置中",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "结案",
    "evaluated": "已评价",
}


def _hhmmss(seconds: float) -> str:
    return local(seconds).strftime("%H:%M:%S")


async def watch(url: str, token: str, seconds: float = 0) -> int:
    """Connect, print the snapshot summary, then one line per delta; reconnect and resume.
    `url` may list several servers, comma-separated (a writer, its standbys, gateways): a
    lost connection moves on to the next, as the desktop does."""
    servers = [u.strip() for u in url.split(",") if u.strip()]
    try:
        for server in servers or [""]:
            parse_uri(server)
    except InvalidURI as exc:
        print(f"error: {exc}: --server ws://HOST:PORT[,ws://HOST:PORT...]")
        return 2
    turn = 0
    deadline = time.monotonic() + seconds if seconds else None
    resume: Resume | None = None
    names: dict[str, str] = {}
    categories: dict[str, str] = {}
    units: str | None = None
    backoff = 0.5
    while deadline is None or time.monotonic() < deadline:
        try:
            url = servers[turn % len(servers)]
            async with connect(url, max_size=None, compression=None, open_timeout=10) as ws:
                hello = Hello(
                    id=1,
                    protocol=1,
                    token=token,
                    client="dispatch-watch",
                    resume=resume,
                    reference=units,
                )
                await ws.send(encode(hello).decode())
                backoff = 0.5
                while deadline is None or time.monotonic() < deadline:
                    timeout = None if deadline is None else max(0.1, deadline - time.monotonic())
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout)
                    except TimeoutError:
                        break
                    message = decode_server(raw)
                    if isinstance(message, Welcome):
                        scope = ",".join(message.jurisdiction) or "全区"
                        print(
                            f"welcome {message.user} ({message.role}, {scope}) epoch "
                            f"{message.epoch} head {message.head} resume={message.resume}"
                        )
                    elif isinstance(message, Units):
                        ref = message.reference
                        units = message.version
                        names = {s.code: s.name for s in ref.streets}
                        categories = {c.code: c.name for c in ref.categories}
                        print(
                            f"units {message.version}: {ref.district_name} "
                            f"{len(ref.streets)} streets, {len(ref.communities)} communities, "
                            f"{len(ref.grids)} grids, {len(ref.cameras)} cameras, "
                            f"{len(ref.categories)} categories"
                        )
                    elif isinstance(message, Categories):
                        units = message.version
                        categories = {c.code: c.name for c in message.categories}
                        print(
                            f"categories {message.version}: the table changed "
                            f"({len(message.categories)} categories)"
                        )
                    elif isinstance(message, Snapshot):
                        statuses = Counter(e.status for e in message.events)
                        duty = message.duty.commander.name if message.duty else "—"
                        print(
                            f"snapshot @{message.seq}: {len(message.events)} events "
                            f"{dict(statuses)}; {len(message.alerts)} alerts; "
                            f"commander {duty}"
                        )
                        resume = Resume(epoch=message.epoch, seq=message.seq)
                    elif isinstance(message, Delta):
                        print(_describe(message, names, categories), flush=True)
                        if resume is not None:
                            resume = Resume(epoch=resume.epoch, seq=message.seq)
                    elif isinstance(message, Kpis):
                        district = message.scopes.get("district")
                        if district is not None:
                            rate = (
                                "—"
                                if district.on_time_rate is None
                                else f"{district.on_time_rate:.1%}"
                            )
                            print(
                                f"  KPI 受理{district.received} 派遣{district.dispatched} "
                                f"结案{district.closed} 按期结案率{rate} "
                                f"超期{district.overdue_now} 在办{district.open_now}"
                                + ("  暂无主节点：案件办理暂停" if message.no_writer else "")
                            )
                    elif isinstance(message, Error):
                        print(f"error {message.code}: {message.message}")
                return 0
        except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
            turn += 1
            after = servers[turn % len(servers)]
            print(f"{url}: connection lost ({exc}); {after} in {backoff:.1f} s")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
    return 0


def _describe(delta: Delta, names: dict[str, str], categories: dict[str, str]) -> str:
    data = delta.data
    head = f"#{delta.seq} {_hhmmss(delta.at)}"
    if isinstance(data, Event):
        flags = "".join(
            flag
            for flag, on in (
                ("⏰超期", data.overdue),
                ("督办", data.supervised),
                ("会商", data.consulting),
            )
            if on
        )
        return (
            f"{head} 事件 {data.code} {names.get(data.street, data.street)} "
            f"{categories.get(data.category, data.category)} "
            f"[{STATUS_ZH.get(data.status, data.status)}/{data.level}] {delta.action} "
            f"by {delta.actor} {flags}"
        )
    if isinstance(data, Alert):
        return (
            f"{head} 告警 #{data.id} {data.camera_name} {data.detection} "
            f"{data.score:.2f} x{data.count} [{data.status}]"
        )
    if isinstance(data, Duty):
        return f"{head} 值班 {data.day} 指挥长 {data.commander.name} ({delta.action})"
    return head
