"""`python -m bench.reliability`: the reliability suite, long (tests/reliability/ runs it short).

Per database (SQLite, PostgreSQL): the backend as a child process SIGKILLed under load, again
and again, with writers resending unanswered commands (same command_id) and readers resuming
— 0 acknowledged commands lost, 0 applied twice, every replica equal to a fresh snapshot;
then kills while it starts (imports, migrations, district load, catch-up). On SQLite first, a
reader that stops reading (closed with 4008 while the others go on). Then fuzzed frames, every
answer held against docs/protocol.md. Prints the figures and the command that reproduces them;
exits 1 if anything was found.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from bench import common
from bench.reliability import private_pg
from bench.reliability.checks import problems_by_kind
from bench.reliability.fuzz import FuzzReport, fuzz
from bench.reliability.kills import KillReport, kills_under_load
from bench.reliability.startup import StartupReport, kills_at_start

RESTART_S = 1.4  # about what a kill and a restart take on the 2-core machine


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="about how long in all")
    parser.add_argument("--readers", type=int, default=50, help="readers (45 wall, 5 street)")
    parser.add_argument("--writers", type=int, default=8, help="writers (street users)")
    parser.add_argument("--fuzz", type=int, default=100_000, help="fuzzed frames (SQLite)")
    parser.add_argument("--db", default="sqlite,postgres", help="sqlite and/or postgres")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-stall", action="store_true", help="skip the reader that stops")
    parser.add_argument(
        "--db-restarts",
        type=int,
        default=3,
        help="PostgreSQL restarted under load (a cluster of the bench's own): how many times",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def _database(kind: str, data: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{data / 'dispatch.db'}"
        return
    with common.database("postgres") as url:
        yield url


def pct(values: Sequence[float], q: float) -> str:
    """A percentile in seconds, or '-'."""
    return f"{common.pct(np.array(values), q):.2f}" if values else "-"


def say(text: str) -> None:
    """Progress, as it goes."""
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


async def run(
    args: argparse.Namespace,
) -> tuple[list[KillReport], list[StartupReport], FuzzReport | None, list[KillReport]]:
    """Every part, in order; the reports."""
    databases = [d for d in args.db.split(",") if d]
    # The time to the kills under load, shared by the databases, but for about a minute and
    # a half for the start-up kills (about 15 s each) and the fuzzing (100k frames: 35-60 s).
    per_db = (args.minutes * 60 - 90) / max(1, len(databases))
    kills: list[KillReport] = []
    starts: list[StartupReport] = []
    fuzzed: FuzzReport | None = None
    for n, kind in enumerate(databases):
        with tempfile.TemporaryDirectory(prefix="tg-reliability-") as tmp:
            data = Path(tmp)
            with _database(kind, data) as url:
                stall = kind == "sqlite" and not args.no_stall
                between = (2.0, 6.0)
                budget = per_db - (60.0 if stall else 0.0) - 30.0
                count = max(3, int(budget / (sum(between) / 2 + RESTART_S)))
                street = max(1, args.readers // 10)
                load = f"{args.writers} writers, {args.readers} readers"
                say(f"{kind}: {count} kills under load, {load}")
                kills.append(
                    await kills_under_load(
                        url,
                        data / "kills",
                        database=kind,
                        writers=args.writers,
                        readers=args.readers - street,
                        street_readers=street,
                        kills=count,
                        between=between,
                        stall_reader=stall,
                        seed=args.seed + n,
                        say=say,
                    )
                )
        with tempfile.TemporaryDirectory(prefix="tg-reliability-") as tmp:
            data = Path(tmp)
            with _database(kind, data) as url:
                say(f"{kind}: kills while starting")
                starts.append(
                    await kills_at_start(url, data, database=kind, seed=args.seed + n, say=say)
                )
    restarts: list[KillReport] = []
    if "postgres" in databases and args.db_restarts and private_pg.available():
        with (
            tempfile.TemporaryDirectory(prefix="tg-reliability-") as tmp,
            private_pg.private_postgres() as cluster,
        ):
            say(f"postgres: the database restarted {args.db_restarts} times under load")
            restarts.append(
                await kills_under_load(
                    cluster.url,
                    Path(tmp),
                    database="postgres",
                    writers=args.writers * 2,
                    readers=max(1, args.readers // 5),
                    street_readers=1,
                    kills=args.db_restarts,
                    between=(3.0, 6.0),
                    cases_at_once=4,
                    seed=args.seed,
                    say=say,
                    restart_database=cluster.restart,
                )
            )
    if args.fuzz:
        with tempfile.TemporaryDirectory(prefix="tg-reliability-") as tmp:
            data = Path(tmp)
            kind = databases[0] if databases else "sqlite"
            with _database(kind, data) as url:
                say(f"{kind}: {args.fuzz:,} fuzzed frames")
                fuzzed = await fuzz(url, data, args.fuzz, seed=args.seed, say=say)
    return kills, starts, fuzzed, restarts


def print_figures(
    kills: list[KillReport],
    starts: list[StartupReport],
    fuzzed: FuzzReport | None,
    restarts: Sequence[KillReport] = (),
) -> list[str]:
    """The tables; every problem found (printed too)."""
    problems: list[str] = []
    rows = []
    for k in kills:
        ledger = k.ledger
        rows.append(
            [
                k.database,
                k.kills,
                f"{k.seconds:.0f} s",
                f"{k.writers} / {k.readers}",
                f"{ledger.acknowledged:,}",
                f"{ledger.resent:,}",
                f"{ledger.repeats:,}",
                ledger.lost,
                ledger.duplicated,
                ledger.unacknowledged,
                f"{k.resumes:,}",
                f"{pct(k.reconverge_s, 50)} / {pct(k.reconverge_s, 99)} / "
                f"{max(k.reconverge_s, default=0):.2f}",
                f"{pct(k.restart_s, 50)} / {pct(k.restart_s, 99)}",
                f"{k.audit.head:,}",
                "equal" if not k.replica_differences else f"{len(k.replica_differences)} differ",
            ]
        )
        problems += [f"{k.database} kills: {p}" for p in k.problems]
    print("\nkill -9 under load (the backend a child process on one database, restarted at once):")
    print(
        common.table(
            [
                "db",
                "kills",
                "took",
                "writers / readers",
                "acknowledged",
                "cut in flight, resent",
                "of them repeats",
                "lost",
                "applied twice",
                "never acknowledged",
                "reader resumes",
                "reconvergence p50 / p99 / max s",
                "restart p50 / p99 s",
                "log rows",
                "replicas vs fresh snapshot",
            ],
            rows,
        )
    )
    print(
        "  reconvergence: from the kill to a district-wide reader holding every change up to the"
        " head it was welcomed back at (restart included);\n  restart: kill to listening again;"
        " cut in flight: sent before a kill, unanswered, sent again with its command_id;"
        "\n  repeats: acknowledged with repeat: true (applied before the cut, answer lost)."
    )
    for k in kills:
        if k.stalled is not None:
            stalled = k.stalled
            code = stalled.close_code if stalled.close_code is not None else "1006 (TCP dropped)"
            print(
                f"  {k.database}: a reader that stopped reading was closed with {code} after "
                f"{stalled.seconds:.0f} s, {stalled.buffered:,} frames waiting unread; the "
                f"others read on ({k.not_reconverged} resumes not caught up before the next kill)"
            )
    rows = []
    for s in starts:
        landed = ", ".join(f"{phase} {n}" for phase, n in sorted(s.landed.items()))
        rows.append(
            [
                s.database,
                s.kills,
                landed,
                f"{s.final_start_s:.1f} s",
                f"{s.events:,}",
                "none" if not s.problems else f"{len(s.problems)}",
            ]
        )
        problems += [f"{s.database} start-up: {p}" for p in s.problems]
    print("\nkill -9 while starting (`dispatch demo` on a fresh database: aimed at each phase):")
    print(
        common.table(
            ["db", "kills", "landed in", "then started and caught up in", "events", "problems"],
            rows,
        )
    )
    for r in restarts:
        ledger = r.ledger
        print("\nPostgreSQL restarted under load (pg_ctl restart -m fast; the backend stays up):")
        print(
            common.table(
                [
                    "restarts",
                    "writers",
                    "acknowledged",
                    "answered internal, resent",
                    "lost",
                    "applied twice",
                    "never acknowledged",
                    "rate before, /s",
                    "database down s",
                    "back to 80 % of the rate, s after the database",
                ],
                [
                    [
                        r.kills,
                        r.writers,
                        f"{ledger.acknowledged:,}",
                        f"{ledger.retried:,}",
                        ledger.lost,
                        ledger.duplicated,
                        ledger.unacknowledged,
                        " / ".join(f"{x:.0f}" for x in r.rates),
                        " / ".join(f"{x:.1f}" for x in r.restart_s),
                        " / ".join(f"{x:.2f}" for x in r.back_to_rate_s),
                    ]
                ],
            )
        )
        problems += [f"postgres restarts: {p}" for p in r.problems]
    if fuzzed is not None:
        print(
            f"\nfuzzed frames: {fuzzed.frames:,} after the welcome on {fuzzed.connections:,} "
            f"connections, {fuzzed.first_frames:,} as first messages, {fuzzed.probes} "
            f"websocket-level probes, in {fuzzed.seconds:.0f} s"
        )
        codes = ", ".join(f"{c} {n:,}" for c, n in fuzzed.codes.most_common())
        print(f"  answers: {codes}")
        print(
            f"  undocumented (an object with a key twice, huge numbers): {fuzzed.undocumented:,}"
            " (any error, the connection up)"
        )
        print(f"  {fuzzed.rate_limit}")
        print(f"  backend log lines while fuzzing: {fuzzed.log_lines:,}")
        print(f"  answers not as documented: {len(fuzzed.mismatches)}")
        problems += [f"fuzz: {p}" for p in fuzzed.all_problems]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run it all; print the figures, the problems and the command that reproduces them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    print("machine:")
    common.print_machine()
    began = time.monotonic()
    kills, starts, fuzzed, restarts = asyncio.run(run(args))
    problems = print_figures(kills, starts, fuzzed, restarts)
    total = Counter(
        {"under load": sum(k.kills for k in kills), "starting": sum(s.kills for s in starts)}
    )
    print(
        f"\n{sum(total.values())} kills in all ({total['under load']} under load, "
        f"{total['starting']} while starting); took {time.monotonic() - began:.0f} s"
    )
    if problems:
        print(f"\n{len(problems)} PROBLEMS:\n{problems_by_kind(problems)}")
    else:
        print("no problems found")
    print(f"\nreproduce: {common.reproduce('bench.reliability', argv)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
