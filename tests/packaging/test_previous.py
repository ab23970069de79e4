"""An earlier commit's tongguan-dispatch .deb for the upgrade in `./tg package verify`
(packaging/previous.py): the commit named, its version older than a build made now, the
cache used, a bad ref refused in words. The build itself (PyInstaller in a git worktree, ~5
min) is run by `./tg package verify --from REF`, whose output is in packaging/README.md."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT, _script

previous = _script("previous")
deb = _script("deb")


def head() -> str:
    """This checkout's HEAD commit."""
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_ref_is_named_by_its_commit() -> None:
    """A short ref resolves to the full hash (the cache's key)."""
    commit = head()
    assert previous.commit_of(commit[:10]) == commit
    assert previous.commit_of("HEAD") == commit


def test_the_commit_version_is_older_than_a_build_made_now() -> None:
    """The commit's time, not the build's: a build made later upgrades it (dpkg's order)."""
    old = previous.version_of(head())
    now = deb.project_version()
    assert old.split("+")[0] == now.split("+")[0]
    result = subprocess.run(["dpkg", "--compare-versions", old, "le", now], check=False)
    assert result.returncode == 0, (old, now)


def test_a_cached_deb_is_used_without_building(tmp_path: Path) -> None:
    """A .deb kept for the commit is returned; nothing is built, no worktree added."""
    commit = head()
    kept = tmp_path / commit / "tongguan-dispatch_0.1.0+20261203000000_amd64.deb"
    kept.parent.mkdir()
    kept.write_bytes(b"kept")
    assert previous.previous_deb("HEAD", cache=tmp_path) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == [commit]


def test_a_bad_ref_is_refused_in_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No such commit: status 1, the reason, nothing made in the cache."""
    with pytest.raises(previous.PreviousError, match="names no commit"):
        previous.previous_deb("no-such-ref-anywhere", cache=tmp_path)
    assert previous.main(["no-such-ref-anywhere"]) == 1
    assert "'no-such-ref-anywhere' names no commit of this repository" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--bogus"], "usage: ./tg package verify [--from REF | --from-deb FILE]"),
        (["--from", "HEAD", "--from-deb", "x.deb"], "--from or --from-deb, not both"),
    ],
)
def test_verify_refuses_bad_arguments(args: list[str], said: str) -> None:
    """verify.sh says what is wrong before building or installing anything (status 2)."""
    result = subprocess.run(
        [str(ROOT / "packaging" / "verify.sh"), *args], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert said in result.stderr


def tiny_deb(out: Path, package: str, version: str) -> Path:
    """A real (empty) .deb made by dpkg-deb: enough for verify.sh's checks of its fields."""
    tree = out / f"{package}-{version}"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: test <test@example.org>\nDescription: test\n"
    )
    deb = out / f"{package}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(deb)],
                   check=True, capture_output=True)  # fmt: skip
    return deb


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("tongguan-dispatch_2.0", "(2.0) is not older than tongguan-dispatch_1.0_all.deb (1.0)"),
        ("tongguan-dispatch_1.0", "(1.0) is not older than tongguan-dispatch_1.0_all.deb (1.0)"),
        ("tongguan-desktop_0.5", "not a tongguan-dispatch .deb"),
        ("missing", "not a tongguan-dispatch .deb"),
    ],
)
def test_verify_refuses_a_from_deb_not_older(tmp_path: Path, given: str, said: str) -> None:
    """The first install must be an older tongguan-dispatch: else refused before any root is
    made (status 1, the reason); the dist's packages untouched."""
    dist = tmp_path / "dist"
    dist.mkdir()
    built = [tiny_deb(dist, "tongguan-dispatch", "1.0"), tiny_deb(dist, "tongguan-desktop", "1.0")]
    sizes = [deb.stat().st_size for deb in built]
    other = tmp_path / "other"
    other.mkdir()
    name, _, version = given.partition("_")
    from_deb = tiny_deb(other, name, version) if version else other / "missing.deb"
    result = subprocess.run(
        [str(ROOT / "packaging" / "verify.sh")],
        env={**os.environ, "TG_DIST": str(dist), "TG_FROM_DEB": str(from_deb)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert said in result.stderr
    assert [deb.stat().st_size for deb in built] == sizes


def test_verify_from_a_bad_ref_says_so(tmp_path: Path) -> None:
    """--from with a ref that names no commit: status 1, the reason, nothing built."""
    dist = tmp_path / "dist"
    dist.mkdir()
    tiny_deb(dist, "tongguan-dispatch", "1.0")
    tiny_deb(dist, "tongguan-desktop", "1.0")
    result = subprocess.run(
        [str(ROOT / "packaging" / "verify.sh"), "--from", "no-such-ref-anywhere"],
        env={**os.environ, "TG_DIST": str(dist)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "'no-such-ref-anywhere' names no commit of this repository" in result.stderr
