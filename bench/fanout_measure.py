"""The measuring side of the fan-out bench, shared by Tongguan's run and the baseline's.

The client process (100 raw websocket clients that timestamp every delta they read), the
figures of one run and how they are computed from the clients' records and the server's
send (commit) times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection

import msgspec
import numpy as np

from bench import common
from bench.rawclient import Received, connect

# Beyond this rise of the median latency from the first to the last fifth of the window the
# deltas are queueing up faster than they leave: the server is not keeping up.
MAX_DRIFT_MS = 10.0


# ---- the client process --------------------------------------------------------------------


def clients_main(port: int, token: str, n: int, conn: Connection) -> None:
    """Entry point of the client process: connect `n` clients, record, report on 'stop'."""
    asyncio.run(_clients(port, token, n, conn))


async def _clients(port: int, token: str, n: int, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    hello = msgspec.json.encode(
        {"id": 1, "type": "hello", "protocol": 1, "token": token, "client": "bench"}
    )
    clients = []
    # A few at a time: a hundred 1 MB snapshots at once only measure the kernel's buffers.
    for i in range(0, n, 10):
        batch = await asyncio.gather(*(connect("127.0.0.1", port, hello) for _ in range(10)))
        clients.extend(batch[: n - i])
        await asyncio.wait_for(asyncio.gather(*(c.snapshot for c in batch)), 60)
    conn.send(("ready", len(clients)))
    command, head = await loop.run_in_executor(None, conn.recv)
    assert command == "stop"
    cpu = time.process_time()
    # Let late deltas arrive: wait until every live client has read up to the final head.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if all(c.last >= head or c.lost.done() for c in clients):
            break
        await asyncio.sleep(0.05)
    records = [c.received() for c in clients]
    for c in clients:
        if c.transport is not None and not c.lost.done():
            c.transport.abort()  # (once lost, Python 3.12's abort() may fail: dispatch.hub.abort)
    conn.send(("done", records, cpu))


# ---- one run's figures ---------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """Figures of one run at one rate (of Tongguan or of the baseline)."""

    server: str
    clients: int
    rate: int
    achieved: float
    seqs: int
    expected: int
    delivered: int
    duplicates: int
    out_of_order: int
    closed: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    drift_ms: float
    message_bytes: float
    server_cpu: float
    threads: dict[str, float]
    client_cpu: float
    kpi_events: int
    notes: str = ""  # what --trace found

    @property
    def lost(self) -> int:
        """Deliveries expected but not seen."""
        return self.expected - self.delivered

    @property
    def keeps_up(self) -> bool:
        """Every delta reached every client, at the offered rate, and the lag did not grow."""
        return (
            self.lost == 0
            and self.closed == 0
            and self.achieved >= 0.98 * self.rate
            and self.drift_ms <= MAX_DRIFT_MS
        )


def analyse(
    server: str,
    rate: int,
    n_clients: int,
    sent: list[tuple[int, int, float]],
    records: list[Received],
    marks: tuple[common.CpuMark, common.CpuMark],
    message_bytes: float,
    kpi_events: int = 0,
) -> Outcome:
    """Latencies of every (client, seq) whose send time fell in the window between the marks.

    `sent` holds (first seq, count, time) per batch: for Tongguan the moment `Store.commit`
    returned, for the baseline the moment its producer stamped the messages.
    """
    mark0, mark1 = marks
    measure_from, measure_to = mark0.wall, mark1.wall
    top = max((first + n - 1 for first, n, _ in sent), default=0)
    sent_at = np.full(top + 2, np.nan)
    for first, n, t in sent:
        sent_at[first : first + n] = t
    in_window = (sent_at >= measure_from) & (sent_at <= measure_to)
    seqs = int(in_window.sum())
    if not seqs:
        raise RuntimeError("nothing sent in the measured window: see the server's log above")
    latencies, when = [], []
    delivered = duplicates = out_of_order = closed = 0
    for rec in records:
        starts = np.frombuffer(rec.starts, dtype=np.int64)
        ends = np.frombuffer(rec.ends, dtype=np.int64)
        times = np.frombuffer(rec.times, dtype=np.float64)
        lengths = ends - starts + 1
        # Expand the runs to one (seq, receipt time) per delta.
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        seq = np.repeat(starts, lengths) + offsets
        received = np.repeat(times, lengths)
        keep = (seq <= top) & in_window[np.minimum(seq, top)]
        seq, received = seq[keep], received[keep]
        unique = len(np.unique(seq))
        delivered += unique
        duplicates += len(seq) - unique
        out_of_order += rec.out_of_order
        closed += rec.close_code is not None
        latencies.append(received - sent_at[seq])
        when.append(sent_at[seq])
    ms = np.concatenate(latencies) * 1000 if latencies else np.array([])
    at = np.concatenate(when) if when else np.array([])
    fifth = (measure_to - measure_from) / 5
    first_fifth = ms[at < measure_from + fifth]
    last_fifth = ms[at > measure_to - fifth]
    server_cpu, threads = common.cpu_share(mark0, mark1)
    return Outcome(
        server=server,
        clients=n_clients,
        rate=rate,
        achieved=seqs / (measure_to - measure_from),
        seqs=seqs,
        expected=seqs * n_clients,
        delivered=delivered,
        duplicates=duplicates,
        out_of_order=out_of_order,
        closed=closed,
        p50_ms=common.pct(ms, 50),
        p99_ms=common.pct(ms, 99),
        p999_ms=common.pct(ms, 99.9),
        max_ms=float(ms.max()) if len(ms) else float("nan"),
        drift_ms=common.pct(last_fifth, 50) - common.pct(first_fifth, 50),
        message_bytes=message_bytes,
        server_cpu=server_cpu,
        threads=threads,
        client_cpu=threads.pop("clients"),
        kpi_events=kpi_events,
    )


def payload_size(wire: bytes) -> int:
    """The payload length of one unmasked websocket frame (its header's length subtracted)."""
    n = wire[1] & 0x7F
    return len(wire) - (2 if n < 126 else 4 if n == 126 else 10)


# ---- reporting -----------------------------------------------------------------------------


def rows(outcomes: Sequence[Outcome]) -> tuple[list[str], list[list[object]]]:
    """Table headers and rows for a set of runs."""
    headers = [
        "server",
        "clients x deltas/s",
        "achieved/s",
        "delivered / expected",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "lag drift ms",
        "server CPU",
        "loop / writer / producer",
        "client proc CPU",
        "keeps up",
    ]
    out: list[list[object]] = []
    for o in outcomes:
        faults = []
        if o.lost:
            faults.append(f"{o.lost} lost")
        if o.duplicates:
            faults.append(f"{o.duplicates} dup")
        if o.out_of_order:
            faults.append(f"{o.out_of_order} out of order")
        if o.closed:
            faults.append(f"{o.closed} clients closed")
        delivered = f"{o.delivered:,} / {o.expected:,}" + (
            f" ({', '.join(faults)})" if faults else ""
        )
        t = o.threads
        split = " / ".join(
            f"{t[k]:.0f}%" if k in t else "-" for k in ("loop", "writer", "producer")
        )
        out.append(
            [
                o.server,
                f"{o.clients} x {o.rate:,}",
                f"{o.achieved:,.0f}",
                delivered,
                f"{o.p50_ms:.2f}",
                f"{o.p99_ms:.2f}",
                f"{o.p999_ms:.1f}",
                f"{o.max_ms:.1f}",
                f"{o.drift_ms:+.1f}",
                f"{o.server_cpu:.0f}%",
                split,
                f"{o.client_cpu:.0f}%",
                "yes" if o.keeps_up else "**no**",
            ]
        )
    return headers, out
