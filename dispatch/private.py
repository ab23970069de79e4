"""Files only their owner may read: the data directory (700), the database, logs and tokens
(600). Created so from the start; an existing looser one is tightened, with a log line."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("dispatch.private")

DIR_MODE = 0o700
FILE_MODE = 0o600
# Not on Windows, whose files have no such modes (nor symlinks an unprivileged user makes).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def private_dir(path: Path) -> Path:
    """Make the directory (and missing parents) mode 700, or tighten it to 700; `path`."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tighten(path, DIR_MODE)
    return path


def tighten(path: Path, mode: int = FILE_MODE, say: bool = True) -> bool:
    """Take group and other permissions away from an existing file or directory (saying so
    in the log, unless not `say`); whether it had to. A missing path, a symlink, or one we
    do not own, is left alone."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode) or not info.st_mode & 0o077:
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    path.chmod(mode)
    if say:
        log.warning(
            "tightened %s from %o to %o: only its owner may read it",
            path,
            stat.S_IMODE(info.st_mode),
            mode,
        )
    return True


def create_private(path: Path) -> None:
    """Create an empty file of mode 600 unless one is there (then tighten it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """os.open for writing a file of mode 600 (created so, or an existing one tightened),
    never through a symlink."""
    fd = os.open(path, flags | os.O_CREAT | _NOFOLLOW, FILE_MODE)
    try:
        info = os.fstat(fd)
        if info.st_mode & 0o077:
            tighten(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, text: str | bytes) -> None:
    """Write a whole file only its owner may read (600), atomically.

    A temporary file is made beside it with O_EXCL (never an existing file, never through a
    symlink), filled, synced and renamed over `path`: a symlink at `path` is replaced, not
    followed, and an existing file's looser mode is not kept. Missing parents are made 700.
    """
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_whole[T](path: Path, fill: Callable[[Path], T]) -> T:
    """Have `fill` write a hidden file beside `path` (`.name.part`), then rename it to
    `path`: a file half written is never taken for one. On any failure the hidden file is
    removed and the error raised; what `fill` returned otherwise."""
    partial = path.with_name(f".{path.name}.part")
    try:
        result = fill(partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result
