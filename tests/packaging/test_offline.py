"""Offline installation from source (packaging/README.md, "With no registry").

A wheelhouse is made from uv.lock for this Python (packaging/wheelhouse.py, through pip's
cache), then a copy of the checkout sets itself up from it with `./tg setup` with the network
switched off: in a network namespace of its own where the kernel allows one (`unshare -n`: no
interface but a down loopback), and in any case with uv and pip told there is no index, a
HOME and a uv cache of its own (nothing from this machine's caches). The app is then imported
and the backend's command line run from that environment, still offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.timeout(600)


def _can_unshare() -> bool:
    return (
        shutil.which("unshare") is not None
        and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    )


OFFLINE = ["unshare", "-n"] if _can_unshare() else []


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "wheelhouse.py"), "--out", str(out),
         "--python", VERSION],
        check=True, cwd=ROOT, timeout=480,
    )  # fmt: skip
    return out


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The checkout's files as git knows them (committed or not), copied: a fresh clone."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    dest = tmp_path / "src"
    for name in filter(None, files):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Nothing of this machine's Python setup: no venv, caches, pip configuration."""
    (tmp_path / "home").mkdir(exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(tmp_path / "home"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "PIP_CONFIG_FILE": os.devnull,
        "TG_PYTHON": os.path.realpath(sys.executable),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def tg(checkout: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OFFLINE, str(checkout / "tg"), *args],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=480,
    )  # fmt: skip


def test_the_wheelhouse_holds_the_lock_for_this_python(wheelhouse: Path) -> None:
    record = json.loads((wheelhouse / "wheelhouse.json").read_text())
    assert record["pythons"] == [VERSION]
    names = {w.name.split("-")[0].lower() for w in wheelhouse.glob("*.whl")}
    # The app's own, the tests', PyInstaller, uv for ./tg, hatchling to build the project.
    for needed in ("pyside6_essentials", "pyside6_webengine", "numpy", "sqlalchemy", "pytest",
                   "pyinstaller", "uv", "hatchling"):  # fmt: skip
        assert needed in names, f"{needed} missing from the wheelhouse"
    assert not list(wheelhouse.glob("*.tar.gz")), "an sdist: the target would need a compiler"


def test_tg_sets_up_from_the_wheelhouse_with_no_registry(wheelhouse, checkout, tmp_path) -> None:
    env = offline_env(tmp_path, TG_WHEELHOUSE=str(wheelhouse))
    done = tg(checkout, env, "setup")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no registry" in done.stderr
    python = checkout / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [*OFFLINE, str(python), "-c",
         "import desktop.app, desktop.ui, dispatch.cli, PySide6.QtWebEngineWidgets, "
         "weasyprint, shapely, psycopg; import sys; print(sys.version_info[:2])"],
        env={**env, "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    # The wheelhouse is remembered: later commands need no TG_WHEELHOUSE and set up nothing.
    data = tmp_path / "data"
    later = offline_env(tmp_path, TONGGUAN_DATA=str(data))
    served = tg(checkout, later, "dispatch", "init-db")
    assert served.returncode == 0, served.stdout + served.stderr
    assert "database ready" in served.stdout
    assert "setting up" not in served.stderr
    assert (data / "dispatch.db").stat().st_size > 0


def test_tg_refuses_a_wheelhouse_of_another_lock(wheelhouse, checkout, tmp_path) -> None:
    other = tmp_path / "other"
    shutil.copytree(wheelhouse, other, ignore=shutil.ignore_patterns("*.whl"))
    record = json.loads((other / "wheelhouse.json").read_text())
    record["lock_sha256"] = "0" * 64
    (other / "wheelhouse.json").write_text(json.dumps(record))
    done = tg(checkout, offline_env(tmp_path, TG_WHEELHOUSE=str(other)), "setup")
    assert done.returncode == 1
    assert "made from another uv.lock" in done.stderr
    assert not (checkout / ".venv" / "bin" / "python").exists()


def test_tg_refuses_a_folder_that_is_no_wheelhouse(checkout, tmp_path) -> None:
    done = tg(checkout, offline_env(tmp_path, TG_WHEELHOUSE=str(tmp_path)), "setup")
    assert done.returncode == 1
    assert "is not a wheelhouse" in done.stderr
