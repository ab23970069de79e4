"""Build the one-folder bundles (PyInstaller) and check them against the size budget.

    .venv/bin/python packaging/build.py [--dist DIR] [--force] [tongguan] [tongguan-dispatch]

`./tg package` runs it, then packaging/deb.py. Each bundle lands in DIST/NAME/; DIST/
build.json records the build (seconds, sizes, the source key), and a bundle whose sources
have not changed since is not built again (`--force` builds it anyway).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("TG_DIST") or ROOT / "dist")
BUNDLES = ("tongguan-dispatch", "tongguan")
README = ROOT / "packaging" / "README.md"
# What a bundle is built from: a change in any of these builds it again (not pyproject.toml:
# uv.lock says what is installed; not deb.py, debian/ or the documents).
SOURCES = ("protocol", "dispatch", "desktop", "widgets", "resources")
SPECS = ("common.py", "tongguan.spec", "tongguan-dispatch.spec", "entry", "build.py")


def source_key() -> str:
    """A digest of everything the bundles are built from (sources, the lock, the specs)."""
    digest = hashlib.sha256()
    files = [ROOT / "uv.lock"]
    tops = [ROOT / top for top in SOURCES] + [ROOT / "packaging" / spec for spec in SPECS]
    for top in tops:
        found = [top] if top.is_file() else list(top.rglob("*"))
        files += [
            p
            for p in found
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".md")
        ]
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def size_mib(path: Path) -> float:
    """The size of a folder's files in MiB (apparent sizes, symlinks not followed)."""
    total = sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())
    return total / 2**20


def budgets() -> dict[str, float]:
    """The size budget per bundle, from packaging/README.md's table (`| name | N MiB |`)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Size budget", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"^\| `([a-z-]+)` \| (\d+) MiB \|", section, re.MULTILINE)
    return {name: float(mib) for name, mib in found}


def record(dist: Path) -> dict[str, dict[str, object]]:
    """DIST/build.json as built so far."""
    try:
        doc: dict[str, dict[str, object]] = json.loads((dist / "build.json").read_text())
    except (OSError, ValueError):
        return {}
    return doc


def program(dist: Path, name: str) -> Path:
    """The built program in its folder (NAME.exe on Windows)."""
    return dist / name / (f"{name}.exe" if sys.platform == "win32" else name)


def strip_debug(folder: Path) -> None:
    """Drop the debugging sections of the folder's larger shared libraries (uvloop's alone
    carries 14 MiB of them; 65 MiB in the backend's folder): `strip --strip-debug` keeps
    every symbol the dynamic linker and Python need."""
    libraries = [
        str(path)
        for path in folder.rglob("*.so*")
        if path.is_file() and not path.is_symlink() and path.stat().st_size > 512 * 1024
    ]
    for at in range(0, len(libraries), 50):
        subprocess.run(["strip", "--strip-debug", *libraries[at : at + 50]], check=True)


def build(name: str, dist: Path, force: bool = False) -> dict[str, object]:
    """Build one bundle (unless built from these sources already); its record."""
    key = source_key()
    done = record(dist)
    if not force and done.get(name, {}).get("key") == key and program(dist, name).exists():
        print(f"[package] {name}: up to date ({dist / name})", flush=True)
        return done[name]
    work = dist / ".build" / name
    start = time.monotonic()
    print(f"[package] building {name} (PyInstaller, one folder)", flush=True)
    subprocess.run(
        [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level",
            "WARN", "--distpath", str(dist), "--workpath", str(work),
            str(ROOT / "packaging" / f"{name}.spec"),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)
    strip_debug(dist / name)
    seconds = time.monotonic() - start
    entry: dict[str, object] = {
        "key": key,
        "seconds": round(seconds, 1),
        "mib": round(size_mib(dist / name), 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    done = record(dist)
    done[name] = entry
    (dist / "build.json").write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")
    print(f"[package] {name}: {entry['mib']} MiB in {seconds:.0f} s", flush=True)
    return entry


def check_budget(dist: Path, names: tuple[str, ...]) -> list[str]:
    """The bundles over their budget, as lines to print (none: all within)."""
    limits = budgets()
    over = []
    for name in names:
        mib = size_mib(dist / name)
        limit = limits[name]
        if mib > limit:
            over.append(f"{name}: {mib:.0f} MiB, over its budget of {limit:.0f} MiB")
    return over


def main(argv: list[str] | None = None) -> int:
    """Build the bundles asked for (default both), then check the budget."""
    parser = argparse.ArgumentParser(prog="./tg package bundles", description=__doc__)
    parser.add_argument("bundles", nargs="*", help=f"of {', '.join(BUNDLES)} (default: both)")
    parser.add_argument("--dist", type=Path, default=DIST)
    parser.add_argument("--force", action="store_true", help="build even when up to date")
    args = parser.parse_args(argv)
    names = tuple(args.bundles) or BUNDLES
    if unknown := set(names) - set(BUNDLES):
        parser.error(f"no bundle {', '.join(sorted(unknown))}: {', '.join(BUNDLES)}")
    args.dist.mkdir(parents=True, exist_ok=True)
    for name in names:
        build(name, args.dist, args.force)
    over = check_budget(args.dist, names)
    for line in over:
        print(f"[package] {line} (packaging/README.md)", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
