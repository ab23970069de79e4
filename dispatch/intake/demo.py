"""The demo's intake config: every intake on, its peers' keys in the data dir (mode 600).

Each intake adds the TOML of its demo section with `@demo_section`; `dispatch demo` writes
the file once (kept across runs, so the keys stay) and serves with it.
"""

from __future__ import annotations

import secrets
import tomllib
from collections.abc import Callable
from pathlib import Path

from dispatch.intake.config import import_intakes
from dispatch.private import private_dir, write_private

DEMO_FILE = "intake-demo.toml"
DEMO_PEER = "demo-12345"  # the simulator's 12345 platform

_SECTIONS: list[Callable[[Path], str]] = []


def demo_section(make: Callable[[Path], str]) -> Callable[[Path], str]:
    """Register a function giving a demo section's TOML (given the keys directory)."""
    _SECTIONS.append(make)
    return make


def demo_key(keys: Path, name: str) -> Path:
    """A peer's key file in `keys` (made once, mode 600)."""
    path = keys / f"{name}.key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(32) + "\n")
    return path


@demo_section
def _http(keys: Path) -> str:
    # Any free port: logged and written to the ready file.
    return '[intake.http]\nhost = "127.0.0.1"\nport = 0\n'


@demo_section
def _hotline(keys: Path) -> str:
    key = demo_key(keys, DEMO_PEER)
    return (
        "[intake.hotline]\nenabled = true\n\n"
        f"[intake.hotline.peers.{DEMO_PEER}]\n"
        f'key_file = "{key}"\n'
        "# feedback_url: set by the simulator's fake 12345 platform when it runs\n"
    )


DEMO_OPEN311_CLIENT = "demo-citizen-app"  # the demo's Open311 client (a citizens' app)


@demo_section
def _open311(keys: Path) -> str:
    key = demo_key(keys, DEMO_OPEN311_CLIENT)
    return (
        "[intake.open311]\nenabled = true\n"
        'jurisdiction_id = "daguan.anqing.example"\ntype = "test"\n\n'
        f"[intake.open311.clients.{DEMO_OPEN311_CLIENT}]\n"
        f'key_file = "{key}"\n'
    )


def write_demo_config(data: Path) -> Path:
    """The demo's config file in `data` (written once; its keys in data/keys/). A file
    written before an intake existed gets that intake's section added, the rest kept."""
    # Every intake module imported: a module's import registers its demo section.
    import_intakes()
    path = data / DEMO_FILE
    keys = private_dir(data / "keys")
    if not path.exists():
        text = "# Tongguan demo: every intake on (dispatch demo writes this once)\n\n"
        text += "\n".join(make(keys) for make in _SECTIONS)
        write_private(path, text)
        return path
    text = path.read_text(encoding="utf-8")
    try:
        have = set(tomllib.loads(text).get("intake", {}))
    except tomllib.TOMLDecodeError:
        return path  # the backend refuses it with the reason; not ours to rewrite
    missing = []
    for make in _SECTIONS:
        section = make(keys)
        if not set(tomllib.loads(section).get("intake", {})) <= have:
            missing.append(section)
    if missing:
        write_private(path, text.rstrip("\n") + "\n\n" + "\n".join(missing))
    return path
