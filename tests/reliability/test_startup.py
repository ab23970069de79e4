"""kill -9 while the backend starts: in its imports, its migrations (Alembic), its district
load, before it listens, during the simulator's catch-up (`dispatch demo` replays the day so
far) and once live; then it must start, catch up and serve data that agree (the database's
audit log whole, the epoch kept, its snapshot equal to the database, a reader that lived
through it all equal to a fresh snapshot, no stretch of the day simulated twice).
"""

from __future__ import annotations

import pytest

from bench.reliability.checks import problems_by_kind
from bench.reliability.startup import DEFAULT_AIMS, kills_at_start

pytestmark = pytest.mark.timeout(300)


async def test_kills_while_starting_leave_a_backend_that_starts_with_data_that_agree(
    db_url, tmp_path
) -> None:
    database = "sqlite" if db_url.startswith("sqlite") else "postgres"
    report = await kills_at_start(db_url, tmp_path, database=database, seed=3)
    assert not report.problems, problems_by_kind(report.problems)
    assert report.kills == len(DEFAULT_AIMS)
    # Where a kill lands depends on timing (a migration takes 20-40 ms: see
    # tests/dispatch/test_migrations.py for kills at exact points of one); the catch-up is
    # long enough to be hit every time.
    assert report.landed["catch-up"] >= 1, report.landed
    assert len(report.landed) >= 3, report.landed
    assert report.events > 100  # the day so far was simulated
