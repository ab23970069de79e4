"""The tongguan-dispatch .deb of an earlier commit, for the upgrade in `./tg package verify`.

    .venv/bin/python packaging/previous.py REF    # prints the .deb's path

Built once per commit in a temporary `git worktree` of REF, by that commit's own `./tg
package bundles tongguan-dispatch` (its own .venv, its own specs) and its own deb.py, then
kept in .cache/previous/COMMIT/. Its version is pyproject's at REF with the commit's time
(`0.1.0+20261204093000`), so that any build made since upgrades it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "previous"
PACKAGE = "tongguan-dispatch"
# Run in the old worktree by its own Python: its deb.py, its dist/ (argv: dist, version).
BUILD_DEB = (
    "import sys; from pathlib import Path; sys.path.insert(0, 'packaging'); import deb; "
    "print(deb.build_dispatch(Path(sys.argv[1]), sys.argv[2], deb.architecture()))"
)


class PreviousError(Exception):
    """A ref that names no commit, or a commit whose package cannot be built."""


def git(*args: str) -> str:
    """A git command in this checkout; its stdout, stripped."""
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode:
        raise PreviousError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def commit_of(ref: str) -> str:
    """The full hash of the commit REF names."""
    try:
        return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except PreviousError:
        raise PreviousError(f"{ref!r} names no commit of this repository") from None


def version_of(commit: str) -> str:
    """The package version of a commit's build: pyproject's there, plus the commit's time
    (UTC), which is older than any build made from a later checkout."""
    try:
        project = tomllib.loads(git("show", f"{commit}:pyproject.toml"))["project"]
    except (PreviousError, KeyError, tomllib.TOMLDecodeError) as error:
        raise PreviousError(f"{commit[:10]}: no project version in pyproject.toml") from error
    stamp = int(git("show", "-s", "--format=%ct", commit))
    when = time.strftime("%Y%m%d%H%M%S", time.gmtime(stamp))
    return f"{project['version']}+{when}"


def cached(commit: str, cache: Path = CACHE) -> Path | None:
    """The .deb already built for this commit, if any."""
    found = sorted((cache / commit).glob(f"{PACKAGE}_*.deb"))
    return found[-1] if found else None


def build(commit: str, cache: Path = CACHE) -> Path:
    """Build the commit's tongguan-dispatch .deb in a temporary worktree; its cached path."""
    if git("cat-file", "-t", f"{commit}:packaging/deb.py") != "blob":
        raise PreviousError(f"{commit[:10]} has no packaging/deb.py: it cannot be packaged")
    version = version_of(commit)
    cache.mkdir(parents=True, exist_ok=True)
    tree = Path(tempfile.mkdtemp(prefix=f"build-{commit[:10]}-", dir=cache))
    # The old build must not write into the dist this run is verifying.
    env = {k: v for k, v in os.environ.items() if k not in ("TG_DIST", "VIRTUAL_ENV")}
    try:
        git("worktree", "add", "--detach", str(tree), commit)
        start = time.monotonic()
        print(f"[previous] {commit[:10]}: the backend bundle, by its own ./tg", file=sys.stderr)
        subprocess.run(
            ["./tg", "package", "bundles", PACKAGE],
            cwd=tree, env=env, check=True, stdout=sys.stderr,
        )  # fmt: skip
        out = subprocess.run(
            [str(tree / ".venv" / "bin" / "python"), "-c", BUILD_DEB, "dist", version],
            cwd=tree, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        deb = tree / out.stdout.strip().splitlines()[-1]
        (cache / commit).mkdir(exist_ok=True)
        kept = Path(shutil.copy2(deb, cache / commit / deb.name))
        seconds = time.monotonic() - start
        print(f"[previous] {kept.name} in {seconds:.0f} s, kept in {kept.parent}", file=sys.stderr)
        return kept
    except subprocess.CalledProcessError as error:
        raise PreviousError(f"{commit[:10]}: the build failed ({error})") from error
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True
        )
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def previous_deb(ref: str, cache: Path = CACHE) -> Path:
    """REF's tongguan-dispatch .deb: from the cache, else built (once) and cached."""
    commit = commit_of(ref)
    return cached(commit, cache) or build(commit, cache)


def main(argv: list[str] | None = None) -> int:
    """Print the path of REF's .deb (built if not cached); status 1 with the reason if not."""
    parser = argparse.ArgumentParser(prog="packaging/previous.py", description=__doc__)
    parser.add_argument("ref", help="a commit, branch or tag of this repository")
    args = parser.parse_args(argv)
    try:
        print(previous_deb(args.ref))
    except PreviousError as error:
        print(f"[previous] {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
