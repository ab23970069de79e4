"""Who the desk signs in as, and where: the local demo's users, a running embedded backend to
share, a remembered server, and a token kept only in a file of mode 600. Qt-free."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

# `--as` names for the demo users the embedded backend creates (dispatch/cli.py).
DEMO_USERS: dict[str, str] = {
    "commander": "demo-commander",
    "dispatcher": "demo-dispatcher",
    "street": "demo-linghu",
    "community": "demo-community",
    "admin": "demo-admin",
}
TOKEN_NAME = "desk.token"  # noqa: S105 - a file name, not a secret


def config_dir() -> Path:
    """Where the desk keeps the server it last used and, if asked to, the token."""
    return Path(os.environ.get("TONGGUAN_CONFIG") or platformdirs.user_config_dir("tongguan"))


@dataclass(frozen=True, slots=True)
class Shared:
    """An embedded backend serving a data directory: its URL, and the process id of the
    desktop that started it and restarts it when it fails (its ready file's name)."""

    url: str
    owner: int


def shared_backend(data_dir: Path) -> Shared | None:
    """The embedded backend already serving `data_dir` (a wall's), if one answers; the
    newest when there are several."""
    found: list[tuple[float, str, int]] = []
    for path in data_dir.glob("backend-*.ready.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            url = doc.get("url") if isinstance(doc, dict) else None
            stamp = path.stat().st_mtime
            owner = int(path.name.removeprefix("backend-").split(".", 1)[0])
        except (OSError, ValueError):
            continue
        if isinstance(url, str) and _answers(url):
            found.append((stamp, url, owner))
    if not found:
        return None
    _, url, owner = max(found)
    return Shared(url, owner)


def running_backend(data_dir: Path) -> str | None:
    """The URL of an embedded backend already serving `data_dir` (a wall's), if one answers."""
    shared = shared_backend(data_dir)
    return shared.url if shared is not None else None


def alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's: it exists
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _answers(url: str, timeout: float = 0.5) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False


def demo_token(data_dir: Path, who: str) -> str:
    """The token of a demo user (`--as` name) from the data directory's tokens/."""
    user = DEMO_USERS[who]
    path = data_dir / "tokens" / f"{user}.token"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SignInError(f"no token for {user} at {path}: {exc.strerror or exc}") from None
    if not token:
        raise SignInError(f"the token file {path} is empty")
    return token


def read_token_file(path: Path) -> str:
    """A token from a file; refused when others may read it (it is a password)."""
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SignInError(f"cannot read the token file {path}: {exc.strerror or exc}") from None
    if os.name == "posix" and mode & 0o077:
        raise SignInError(
            f"the token file {path} can be read by others (mode {mode & 0o777:o}); "
            f"run: chmod 600 {path}"
        )
    if not token:
        raise SignInError(f"the token file {path} is empty")
    return token


def save_token(token: str, path: Path | None = None) -> Path:
    """Keep a pasted token in a file only its owner can read (created 600, never wider)."""
    path = path or config_dir() / TOKEN_NAME
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token.strip() + "\n")
    os.chmod(path, 0o600)
    return path


def check_server_url(url: str) -> str:
    """A websocket URL as typed, checked: ws:// or wss://, a host, no credentials in it."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise SignInError("the server is a websocket URL such as ws://10.0.0.5:8765")
    if parts.username or parts.password or "token" in parts.query.lower():
        raise SignInError("credentials never go in the URL: give the token separately")
    return url


class SignInError(Exception):
    """The desk cannot sign in with what it was given (a clear message for the user)."""
