"""./tg itself: --help installs and starts nothing; a current setup is not redone.

The Debian tools (dpkg, apt-get, sudo) and xvfb-run are shadowed on PATH by scripts that note
each call: dpkg still answers (it only reads), the others fail."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def watched_path(tmp_path) -> tuple[dict[str, str], Path]:
    """An environment whose PATH notes calls of the package tools in calls.txt."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    calls.touch()
    for tool, then in (
        ("dpkg", 'exec /usr/bin/dpkg "$@"'),
        ("apt-get", "exit 1"),
        ("sudo", "exit 1"),
        ("xvfb-run", "exit 1"),
    ):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n{then}\n')
        script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)  # no display: a run would want Xvfb
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env, calls


def tg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "tg"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("run", "--help"), "usage: python -m desktop"),
        (("run", "--kiosk", "-h"), "usage: python -m desktop"),
        (("desk", "--help"), "usage: python -m desktop desk"),
        (("dispatch", "--help"), "usage: dispatch"),
        (("demo", "--help"), "usage: dispatch demo"),
        (("--help",), "Tongguan's one entry point"),
        (("help",), "./tg run"),
    ],
)
def test_help_installs_and_starts_nothing(watched_path, args, says) -> None:
    env, calls = watched_path
    done = tg(env, *args)
    assert done.returncode == 0, done.stderr
    assert says in done.stdout
    assert calls.read_text() == ""  # no package looked at, no Xvfb started


def test_a_current_setup_is_not_redone(watched_path) -> None:
    """Once set up (the test run itself went through ./tg's setup; if something changed
    since, this first command redoes it), a command starts at once: no look at the Debian
    packages, no uv."""
    env, calls = watched_path
    if not (ROOT / ".venv" / ".tg-setup").exists():
        pytest.skip("this environment was not set up by ./tg")
    tg(env, "dispatch")
    calls.write_text("")
    done = tg(env, "dispatch")  # the backend's command line, no command: its usage
    assert "usage: dispatch" in done.stderr
    assert calls.read_text() == ""
