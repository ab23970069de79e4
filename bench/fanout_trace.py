"""Where the slow deltas of a fan-out run waited: timestamps of the server's pauses.

`--trace` wraps, in the benchmark's server process only, the hub's fan-out (`Hub.deliver`),
the KPI recount (`Hub.refresh_kpis` and each `kpi.Accumulator.add` slice), the writer's
batches (`Writer._process`) and the cyclic collector (`gc.callbacks`), stamping when each
began and ended. After the run, every delivery at or above the p99 is split into: waiting
for the loop to start the batch's fan-out (commit → `deliver` began), the fan-out itself
(→ `deliver` returned) and the rest (→ the client read it). The waits are then laid over
the pauses to say which ones they overlapped.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.rawclient import Received
from dispatch import kpi
from dispatch.server import Hub
from dispatch.writer import Writer

Span = tuple[float, float]


class Tracer:
    """Spans of the server's work and pauses, in `time.time()` seconds."""

    def __init__(self) -> None:
        self.gc: list[tuple[float, float, int]] = []  # start, end, generation
        self.kpi_refresh: list[Span] = []
        self.kpi_slices: list[Span] = []
        self.deliver: list[tuple[float, float, int]] = []  # start, end, first seq
        self.process: list[Span] = []  # the writer's batches, GIL held except in the driver
        self._gc_start = 0.0

    def install(self) -> None:
        """Wrap the methods (at class level) and hook the collector; call before start."""
        gc.callbacks.append(self._on_gc)
        _wrap(Hub, "deliver", lambda a, t0, t1: self.deliver.append((t0, t1, a[1][0].seq)))
        _wrap(kpi.KpiBook, "refresh", lambda a, t0, t1: self.kpi_slices.append((t0, t1)))
        _wrap(Writer, "_process", lambda a, t0, t1: self.process.append((t0, t1)))
        original = Hub.refresh_kpis
        spans = self.kpi_refresh

        async def refresh_kpis(self: Hub, *args: Any, **kwargs: Any) -> None:
            t0 = time.time()
            await original(self, *args, **kwargs)
            spans.append((t0, time.time()))

        Hub.refresh_kpis = refresh_kpis  # type: ignore[method-assign]

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.time()
        else:
            self.gc.append((self._gc_start, time.time(), info["generation"]))

    def report(
        self,
        sent: Sequence[tuple[int, int, float]],
        records: Sequence[Received],
        window: Span,
    ) -> str:
        """A few lines: the pauses in the window, and what the p99 deliveries waited for."""
        lo, hi = window
        wall = hi - lo
        lines = []
        gcs = [(a, b, g) for a, b, g in self.gc if lo <= a <= hi]
        for gen in (0, 1, 2):
            ms = np.array([(b - a) * 1000 for a, b, g in gcs if g == gen])
            if len(ms):
                lines.append(
                    f"gc gen{gen}: {len(ms)} in {wall:.0f} s, p50 {np.median(ms):.2f} ms, "
                    f"max {ms.max():.1f} ms, total {ms.sum():.0f} ms"
                )
        for name, spans in (
            ("KPI recount", self.kpi_refresh),
            ("  its slices", self.kpi_slices),
            ("hub.deliver", [(a, b) for a, b, _ in self.deliver]),
            ("writer batch", self.process),
        ):
            ms = np.array([(b - a) * 1000 for a, b in spans if lo <= a <= hi])
            if len(ms):
                lines.append(
                    f"{name}: {len(ms)} in {wall:.0f} s, p50 {np.median(ms):.2f} ms, p99 "
                    f"{np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms, "
                    f"{100 * ms.sum() / 1000 / wall:.1f} % of the time"
                )
        lines += self._attribution(sent, records, window)
        return "\n".join(lines)

    def _attribution(
        self, sent: Sequence[tuple[int, int, float]], records: Sequence[Received], window: Span
    ) -> list[str]:
        lo, hi = window
        top = max((first + n - 1 for first, n, _ in sent), default=0)
        committed = np.full(top + 2, np.nan)
        started = np.full(top + 2, np.nan)
        ended = np.full(top + 2, np.nan)
        for first, n, t in sent:
            committed[first : first + n] = t
        for (a, b, first), nxt in zip(
            self.deliver, [d[2] for d in self.deliver[1:]] + [top + 1], strict=True
        ):
            started[first:nxt] = a
            ended[first:nxt] = b
        seqs, received = [], []
        for rec in records:
            starts = np.frombuffer(rec.starts, dtype=np.int64)
            ends = np.frombuffer(rec.ends, dtype=np.int64)
            times = np.frombuffer(rec.times, dtype=np.float64)
            lengths = ends - starts + 1
            offsets = np.arange(int(lengths.sum())) - np.repeat(
                np.cumsum(lengths) - lengths, lengths
            )
            seqs.append(np.repeat(starts, lengths) + offsets)
            received.append(np.repeat(times, lengths))
        seq = np.concatenate(seqs)
        got = np.concatenate(received)
        keep = (seq <= top) & (committed[np.minimum(seq, top)] >= lo)
        keep &= committed[np.minimum(seq, top)] <= hi
        seq, got = seq[keep], got[keep]
        latency = got - committed[seq]
        if not len(latency):
            return []
        slow = latency >= np.percentile(latency, 99)
        wait = (started[seq] - committed[seq])[slow] * 1000
        fan = (ended[seq] - started[seq])[slow] * 1000
        rest = (got - ended[seq])[slow] * 1000
        lines = [
            f"deliveries >= p99 ({slow.sum():,}, mean {latency[slow].mean() * 1000:.1f} ms): "
            f"waiting for the loop {np.nanmean(wait):.1f} ms, fan-out {np.nanmean(fan):.1f} ms,"
            f" after it {np.nanmean(rest):.1f} ms (means)"
        ]
        # Which pauses the slow batches' waits overlapped, as a share of the waiting time.
        waits = {
            (float(c), float(s))
            for c, s in zip(committed[seq][slow], started[seq][slow], strict=True)
            if s == s
        }
        total = sum(s - c for c, s in waits) or float("nan")
        parts = {
            "gc": [(a, b) for a, b, _ in self.gc],
            "KPI slices": self.kpi_slices,
            "earlier fan-outs": [(a, b) for a, b, _ in self.deliver],
            "writer batches": self.process,
        }
        shares = [
            f"{name} {100 * sum(_overlap(w, spans) for w in waits) / total:.0f} %"
            for name, spans in parts.items()
        ]
        lines.append(
            f"their waits ({len(waits)} batches, {1000 * total / max(1, len(waits)):.1f} ms "
            f"each) overlapped: {', '.join(shares)}"
        )
        return lines


def _overlap(span: Span, spans: Sequence[Span]) -> float:
    lo, hi = span
    return sum(max(0.0, min(hi, b) - max(lo, a)) for a, b in spans if a < hi and b > lo)


def _wrap(cls: type, name: str, note: Callable[[tuple[Any, ...], float, float], None]) -> None:
    original = getattr(cls, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.time()
        try:
            return original(*args, **kwargs)
        finally:
            note(args, t0, time.time())

    setattr(cls, name, timed)
