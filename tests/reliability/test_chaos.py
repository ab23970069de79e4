"""The chaos check of issue 16, bounded for CI (`python -m bench chaos` is the ten-minute
one): three `dispatch serve --standby` nodes on PostgreSQL, writers resending unanswered
commands with the same command_id, 50 readers spread over the nodes, the writer node killed
(-9) every 10–14 s: nothing acknowledged lost, nothing applied twice, every replica equal to
a fresh snapshot, each takeover within 5 s and the readers live again within 2 s of it."""

from __future__ import annotations

import pytest

from bench.chaos import run

pytestmark = pytest.mark.timeout(300)


async def test_the_writer_killed_again_and_again_loses_nothing(pg_url) -> None:
    figures = await run(45.0, readers=50, writers=3, kill_every=(10.0, 14.0))
    print(figures.table())
    assert figures.problems == []
    assert figures.kills >= 3 and figures.acknowledged > 50
    assert figures.lost == [] and figures.doubled == []
    assert figures.unequal_replicas == 0
    assert max(figures.takeovers) <= 5.0, figures.takeovers
    assert max(figures.live_again) <= 2.0, figures.live_again
