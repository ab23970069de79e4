"""kill -9 under load, bounded (the long run: `python -m bench.reliability`, bench/RESULTS.md).

The backend is a `python -m dispatch serve` child on the test's own database (a SQLite file,
or a PostgreSQL schema), SIGKILLed four times at random moments and restarted on the same
database, while street users report, accept, dispatch, start and handle cases (resending
every unanswered command with the same command_id) and wall and street readers keep replicas
(desktop/core's Session and Replica). Then: every acknowledged command in the database once,
nothing applied twice, the audit log whole, every replica equal to a fresh snapshot.

A reader that stops reading is closed (4008) while the others read on: in process by
tests/dispatch/test_server.py (a small backlog limit); against a child process only by the
bench, which has to push 16 MiB past it first (25-50 s on the 2-core machine).
"""

from __future__ import annotations

import pytest

from bench.reliability.checks import problems_by_kind
from bench.reliability.kills import kills_under_load

# Bounds, not timings: generous for a loaded 2-core machine (the run takes 10-20 s).
pytestmark = pytest.mark.timeout(300)


async def test_kill_9_under_load_loses_nothing_and_applies_nothing_twice(db_url, tmp_path) -> None:
    database = "sqlite" if db_url.startswith("sqlite") else "postgres"
    report = await kills_under_load(
        db_url,
        tmp_path,
        database=database,
        writers=3,
        readers=3,
        street_readers=1,
        kills=4,
        between=(1.0, 2.5),
        seed=12,
    )
    assert not report.problems, problems_by_kind(report.problems)
    ledger = report.ledger
    assert report.kills == 4
    assert ledger.acknowledged >= 100, ledger  # the load was real
    assert (ledger.lost, ledger.duplicated, ledger.unacknowledged) == (0, 0, 0)
    # Commands were cut in flight and sent again with their command_id after the restart
    # (by the session itself): each applied once, a repeat when its first copy had committed.
    # (The ledger used to count only the writer's own calls, which the session's resends
    # are not: a run could show none.)
    assert ledger.resent > 0, ledger
    # The readers came back by replaying what they missed, never by a reset (a restart keeps
    # the epoch), and caught up.
    assert report.resumes >= report.kills
    assert report.reconverge_s
    assert not report.replica_differences
