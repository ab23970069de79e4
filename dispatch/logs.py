"""The backend's log: its file (rotated by size, mode 600), the refusals' lines (at most so
many per window, the rest counted), and text from clients made safe to log."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import stat
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from dispatch.private import DIR_MODE, open_private, tighten
from dispatch.private import log as private_log

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_MAX_BYTES = 10 * 1024 * 1024  # a log file is rotated when the next line would pass this
LOG_BACKUPS = 5  # rotated files kept: FILE.1 (the newest) to FILE.5; at most 60 MiB in all

log = logging.getLogger("dispatch.refusals")

# Control, format, surrogate, private-use and unassigned characters, line and paragraph
# separators: a client's text holding them could forge or hide log lines.
_UNSAFE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def printable(text: str, limit: int = 200) -> str:
    """A client's text as one safe log line: at most `limit` characters (then "…"), every
    control or invisible character (newlines too) and the backslash escaped."""
    shown = text[:limit]
    if shown.isprintable() and "\\" not in shown:
        return shown if len(text) <= limit else shown + "…"
    parts = []
    for char in shown:
        if char == "\\":
            parts.append("\\\\")
        elif unicodedata.category(char) in _UNSAFE:
            code = ord(char)
            parts.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            parts.append(char)
    return "".join(parts) + ("…" if len(text) > limit else "")


class RefusalLog:
    """Log lines of refused requests and connections, at most `burst` per `window` seconds
    (server-wide; a window begins with the first refusal after the last one ended); the rest
    are counted, and summed up in one line once their window ends:
    `… and 1,234 more refusals suppressed in the last 10 s (most from PEER (USER): 1,200)`.
    Every text argument is made printable (a client's text cannot forge a line)."""

    def __init__(
        self,
        window: float = 10.0,
        burst: int = 50,
        clock: Callable[[], float] = time.monotonic,
        what: str = "refusals",
    ) -> None:
        self.window = window
        self.burst = burst
        self.clock = clock
        self.what = what  # what the count line says was suppressed
        self._start = float("-inf")  # when the current window began
        self._shown = 0
        self._suppressed: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def note(
        self,
        logger: logging.Logger,
        source: str,
        message: str,
        *args: object,
        level: int = logging.INFO,
    ) -> None:
        """Log one refusal by `source` (who: peer and user), unless this window's lines are
        spent: then count it."""
        now = self.clock()
        if now - self._start >= self.window:
            self.flush()
            self._start = now
            self._shown = 0
        if self._shown < self.burst:
            self._shown += 1
            if logger.isEnabledFor(level):
                safe = [printable(a) if isinstance(a, str) else a for a in args]
                logger.log(level, message, *safe)
            return
        self._suppressed[printable(source, 120)] += 1
        if self._timer is None:
            # Said when the window ends even if nothing else is refused by then.
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: the next note after the window says it
            self._timer = loop.call_later(self._start + self.window - now, self._due)

    def _due(self) -> None:
        self._timer = None
        now = self.clock()
        if now - self._start >= self.window:
            self.flush()  # the next refusal begins the next window
        elif self._suppressed:
            self._timer = asyncio.get_running_loop().call_later(
                self._start + self.window - now, self._due
            )

    def flush(self) -> None:
        """Say how many refusals were not logged (if any), and by whom most."""
        total = sum(self._suppressed.values())
        if not total:
            return
        source, most = self._suppressed.most_common(1)[0]
        log.warning(
            "… and %s more %s suppressed in the last %g s (most from %s: %s)",
            f"{total:,}",
            self.what,
            self.window,
            source,
            f"{most:,}",
        )
        self._suppressed.clear()

    def close(self) -> None:
        """At shutdown: the count so far goes to the log."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()


class RowBudget:
    """Rows of the admin log that refusals may write: at most `rows` per `window` seconds per
    user (a user's window begins with its first refusal after the last one ended); the rest
    are counted, to be summed up in one row per user and window (see dispatch.admin)."""

    def __init__(
        self, rows: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rows = rows
        self.window = window
        self.clock = clock
        # user -> [window start, rows written, refusals not written, the last one's peer]
        self._users: dict[str, list[Any]] = {}
        self._ended: list[tuple[str, str, int]] = []  # counts of windows ended, not yet summed
        self.timer: asyncio.TimerHandle | None = None  # set by whoever writes the summaries

    def admit(self, user: str, peer: str) -> bool:
        """Whether this refusal of `user` gets its row; if not, it is counted."""
        now = self.clock()
        state = self._users.get(user)
        if state is None or now - state[0] >= self.window:
            if state is not None and state[2]:
                self._ended.append((user, state[3], state[2]))  # summed up by ended()
            self._users[user] = [now, 1, 0, peer]
            return True
        if state[1] < self.rows:
            state[1] += 1
            return True
        state[2] += 1
        state[3] = peer
        return False

    def ended(self, everything: bool = False) -> list[tuple[str, str, int]]:
        """The (user, peer, count) of every window that ended with refusals not written (all
        of them with `everything`, at shutdown); those counts are forgotten."""
        now = self.clock()
        done, self._ended = self._ended, []
        for user, state in list(self._users.items()):
            start, _rows, more, peer = state
            if everything or now - start >= self.window:
                del self._users[user]
                if more:
                    done.append((user, peer, more))
        return done

    def next_end(self) -> float | None:
        """Seconds until the next window with a count ends (None: no count waits)."""
        now = self.clock()
        if self._ended:
            return 0.0
        ends = [start + self.window - now for start, _r, more, _p in self._users.values() if more]
        return max(0.0, min(ends)) if ends else None


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files are mode 600 (created so; an existing one tightened)
    and, with `capture`, the process's stdout and stderr too: prints, warnings and a crash's
    traceback go to the current file, and follow it at each rotation."""

    def __init__(self, path: Path, max_bytes: int, backups: int, capture: bool) -> None:
        self.capture = capture
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._capture()

    def _open(self) -> io.TextIOWrapper:
        fd = open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)

    def doRollover(self) -> None:
        """Rotate, then point stdout and stderr at the new file."""
        super().doRollover()
        self._capture()

    def _capture(self) -> None:
        if not self.capture or self.stream is None:
            return
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        target = self.stream.fileno()
        for fd in (1, 2):
            os.dup2(target, fd)


def log_to_file(
    path: Path,
    verbose: bool = False,
    max_bytes: int = LOG_MAX_BYTES,
    backups: int = LOG_BACKUPS,
    capture: bool = True,
) -> PrivateRotatingFileHandler:
    """Send the backend's log to `path`, rotated by size (`max_bytes`, `backups` old files:
    FILE.1 the newest), every file mode 600; with `capture`, stdout and stderr as well."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    files = [path, *(path.with_name(f"{path.name}.{i}") for i in range(1, backups + 1))]
    # Tightened before the file is opened, and said once the log goes to it.
    loose = [(f, stat.S_IMODE(f.lstat().st_mode)) for f in files if f.exists()]
    loose = [(f, m) for f, m in loose if tighten(f, say=False)]
    handler = PrivateRotatingFileHandler(path, max_bytes, backups, capture)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    for file, was in loose:
        private_log.warning("tightened %s from %o to 600: only its owner may read it", file, was)
    return handler
