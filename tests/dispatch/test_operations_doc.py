"""docs/operations.md's table of exit statuses is the code's (dispatch/exits.py)."""

from __future__ import annotations

import re
from pathlib import Path

from dispatch import exits, writer
from dispatch.server import CLOSE_SECONDS, SHUTDOWN_SECONDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_exit_status_table_is_the_code_s() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", text, re.MULTILINE)
    assert {name: int(code) for code, name in rows} == exits.STATUSES


def test_the_figures_the_document_gives_are_the_code_s() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f"within {CLOSE_SECONDS:g} s" in text
    assert SHUTDOWN_SECONDS + 1 <= 5 and "within **5 s**" in text
    assert f"every commit for {writer.DATABASE_GRACE_SECONDS:.0f} s" in text


def test_the_clock_section_says_the_clock_s_figures() -> None:
    from dispatch import clock

    text = DOC.read_text(encoding="utf-8")
    assert f"at most **{clock.MAX_SLEW * 100:.0f} %** faster or slower" in text
    assert f"within about {clock.SLEW_HORIZON:.0f} s" in text


def test_the_check_table_is_the_code_s() -> None:
    from dispatch import health

    text = DOC.read_text(encoding="utf-8")
    section = text.split("## 6. `dispatch check`", 1)[1]
    rows = re.findall(r"^\| ([a-z ]+?) \|", section, re.MULTILINE)
    assert rows == [
        "check", "database", "schema", "calendar", "disk", "clock", "intake", "outbox",
        "risk model", "writer", "notifications",
    ]  # fmt: skip
    assert f"over {health.RISK_MODEL_STALE_SECONDS / 3600:g} hours ago" in section
    assert f"looked at twice {health.WRITER_LOOK_AGAIN:g} s apart" in section
    from dispatch.store.log_notice import QUEUE_SHARE_FOR_ROWS

    assert f"queue is {health.QUEUE_FAIL_SHARE * 100:.0f} % full" in section
    assert f"it is {QUEUE_SHARE_FOR_ROWS * 100:.0f} % full" in section
    assert f"under {health.MIN_FREE_MB} MiB free" in section
    assert f"more than {health.MAX_SKEW_SECONDS:g} s from ours" in section
    assert f"more than {health.FUTURE_ROWS_SECONDS:g} s ahead" in section
    assert health.OVERDUE_SECONDS == 3600 and "an hour after it was due" in section
    assert health.NOTICE_MONTH == 11 and "from November on" in section
