"""Make the wheelhouse: every wheel of uv.lock for the target Pythons, for machines with no
registry (`TG_WHEELHOUSE=DIR ./tg …` sets up from it: packaging/README.md).

    python packaging/wheelhouse.py [--out DIR] [--python 3.12 3.13] [--lock FILE]

`./tg package wheelhouse` runs it. The wheels are the very files uv.lock names: pip checks
each against the lock's sha256 (`--require-hashes`), so a wheelhouse carried into the
intranet holds nothing the lock does not. Each target Python downloads with that Python's own
pip (its tags and markers, not this machine's guess of them); a file both need (pure Python,
abi3 like PySide6) is fetched once. Downloads go through pip's cache, so a second run, or a
second wheelhouse, reads the registry only for what it has not seen.

Beside the lock's wheels: the build tools of the project itself (build-requirements.txt, as
pyproject's [build-system] asks) and uv (./tg bootstraps it). DIR/requirements.txt is the
lock exported (with its hashes); DIR/wheelhouse.json says what was made, when, for which
Pythons, from which lock.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("TG_DIST") or ROOT / "dist")
TARGETS = ("3.12", "3.13")
UV = ROOT / ".cache" / "bootstrap" / "bin" / "uv"


def uv_version() -> str:
    """The uv ./tg pins (UV_VERSION=…)."""
    found = re.search(r"^UV_VERSION=(\S+)$", (ROOT / "tg").read_text(), re.MULTILINE)
    assert found, "./tg has no UV_VERSION"
    return found.group(1)


def find_python(version: str) -> str:
    """An interpreter of this minor version: pythonX.Y on PATH, pyenv's, /usr/local's."""
    name = f"python{version}"
    candidates = [
        shutil.which(name),
        *sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/{name}"))),
        f"/usr/local/bin/{name}",
        f"/usr/bin/{name}",
    ]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys, pip; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    raise SystemExit(f"no Python {version} with pip here (python{version}, pyenv): needed")


def export_lock(lock_dir: Path, out: Path) -> Path:
    """uv.lock as a requirements file with every wheel's hash (all dependency groups)."""
    req = out / "requirements.txt"
    subprocess.run(
        [
            str(UV), "export", "--frozen", "--format", "requirements-txt", "--all-groups",
            "--no-emit-project", "--no-header", "--project", str(lock_dir), "-o", str(req),
        ],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return req


def download(python: str, out: Path, args: list[str]) -> None:
    """pip download into OUT with PYTHON's own pip: wheels only."""
    subprocess.run(
        [
            python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--only-binary=:all:", "--dest", str(out), *args,
        ],
        check=True,
    )  # fmt: skip


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make(out: Path, targets: tuple[str, ...], lock_dir: Path = ROOT) -> dict[str, object]:
    """Fill OUT with the wheels for TARGETS; its record (also OUT/wheelhouse.json)."""
    start = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    req = export_lock(lock_dir, out)
    pythons = {version: find_python(version) for version in targets}
    with tempfile.TemporaryDirectory() as tmp:
        # uv's own wheel (./tg's bootstrap) and the build tools, pinned.
        extra = Path(tmp) / "extra.txt"
        extra.write_text(
            (ROOT / "packaging" / "build-requirements.txt").read_text() + f"uv=={uv_version()}\n"
        )
        for version, python in pythons.items():
            print(f"[wheelhouse] Python {version}: {python}", flush=True)
            download(python, out, ["--require-hashes", "--no-deps", "-r", str(req)])
            download(python, out, ["-r", str(extra)])
    wheels = sorted(out.glob("*.whl"))
    record: dict[str, object] = {
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pythons": list(targets),
        "lock_sha256": sha256(lock_dir / "uv.lock"),
        "wheels": len(wheels),
        "mib": round(sum(w.stat().st_size for w in wheels) / 2**20, 1),
        "seconds": round(time.monotonic() - start, 1),
    }
    (out / "wheelhouse.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./tg package wheelhouse", description=__doc__)
    parser.add_argument("--out", type=Path, default=DIST / "wheelhouse")
    parser.add_argument("--python", nargs="+", default=list(TARGETS), metavar="X.Y")
    parser.add_argument(
        "--lock-dir", type=Path, default=ROOT, help="the folder of the uv.lock (default: ours)"
    )
    args = parser.parse_args(argv)
    record = make(args.out, tuple(args.python), args.lock_dir)
    print(
        f"[wheelhouse] {args.out}: {record['wheels']} wheels, {record['mib']} MiB, for Python "
        f"{', '.join(args.python)}, in {record['seconds']} s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
