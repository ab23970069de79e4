"""Write the database test_backup's upgrade test starts from: schema 0007, the head on main
on 2026-12-03, with rows in every table.

    .venv/bin/python tests/dispatch/data/make_head_db.py    # writes head-0007.sqlite.xz

It is main's 0001 database (main-b82a89a.sqlite.xz) upgraded by that day's code, filled by
tests/dispatch/test_backup.py's fill() (admin log, duty plan, external ids, intake outbox,
archived log rows), then written out with `dispatch backup`. Keep the file as it is when a
migration 0008 comes: the test then checks that 0008 upgrades it and keeps every row.
"""

from __future__ import annotations

import lzma
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from dispatch.backup import backup  # noqa: E402
from tests.dispatch.test_backup import fill  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "main.db"
        source.write_bytes(lzma.decompress((HERE / "main-b82a89a.sqlite.xz").read_bytes()))
        fill(f"sqlite:///{source}").close()
        backup(f"sqlite:///{source}", Path(work) / "head.db")
        raw = (Path(work) / "head.db").read_bytes()
    (HERE / "head-0007.sqlite.xz").write_bytes(lzma.compress(raw, preset=9))


if __name__ == "__main__":
    main()
