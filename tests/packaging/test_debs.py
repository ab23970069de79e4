"""The Debian packages built from the bundles (packaging/deb.py): what they hold, lintian at
error level, `systemd-analyze verify` on the unit. Installing them is not tested here
(packaging/README.md, "Not tested here")."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT

pytestmark = [pytest.mark.bundle, pytest.mark.timeout(1800)]
HARDENING = (
    "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
    "ReadWritePaths=/var/lib/tongguan", "Restart=on-failure", "StartLimitBurst=5",
    "StartLimitIntervalSec=300", "User=tongguan",
)  # fmt: skip


@pytest.fixture(scope="module")
def debs(dist, tmp_path_factory) -> dict[str, Path]:
    """Both packages, built into a directory of their own, linted (the output kept)."""
    out = tmp_path_factory.mktemp("debs")
    for name in ("tongguan-dispatch", "tongguan"):
        (out / name).symlink_to(dist / name)
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "deb.py"), "--dist", str(out),
         "--version", "0.1.0+test"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    (out / "lintian.txt").write_text(done.stdout + done.stderr)
    assert "[package] tongguan-desktop_0.1.0+test" in done.stdout, done.stdout + done.stderr
    found = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert set(found) == {"tongguan-dispatch", "tongguan-desktop"}
    return {**found, "lintian": out / "lintian.txt", "returncode": done.returncode}


def contents(deb: Path) -> dict[str, str]:
    """path -> mode string, from dpkg-deb --contents."""
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in listing.splitlines():
        fields = line.split()
        found[fields[5].removeprefix(".")] = fields[0]
    return found


def field(deb: Path, name: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_lintian_finds_no_error(debs) -> None:
    if shutil.which("lintian") is None:
        pytest.skip("lintian not installed (./tg package installs it)")
    assert debs["returncode"] == 0, debs["lintian"].read_text()
    assert "0 error(s): clean" in debs["lintian"].read_text()


def test_the_backend_package(debs, tmp_path) -> None:
    deb = debs["tongguan-dispatch"]
    files = contents(deb)
    assert "/opt/tongguan/tongguan-dispatch/tongguan-dispatch" in files
    assert files["/etc/tongguan/dispatch.toml"].startswith("-rw-r-----")
    assert "/usr/bin/tongguan-dispatch" in files
    unit_path = "/lib/systemd/system/tongguan-dispatch.service"
    assert unit_path in files
    assert "adduser" in field(deb, "Depends")
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "--raw-extract", str(deb), str(root)], check=True)
    assert (root / "DEBIAN" / "conffiles").read_text().split() == ["/etc/tongguan/dispatch.toml"]
    postinst = (root / "DEBIAN" / "postinst").read_text()
    assert "install -d -m 700 -o tongguan -g tongguan /var/lib/tongguan" in postinst
    assert "init-db" in postinst and "adduser" in postinst
    assert "deb-systemd-invoke stop" in (root / "DEBIAN" / "prerm").read_text()
    unit = (root / unit_path.lstrip("/")).read_text()
    for line in HARDENING:
        assert f"\n{line}\n" in unit, line
    config = (root / "etc" / "tongguan" / "dispatch.toml").read_text()
    from dispatch.cli import server_settings

    assert server_settings(root / "etc" / "tongguan" / "dispatch.toml") == {
        "url": "sqlite:////var/lib/tongguan/dispatch.db", "host": "127.0.0.1", "port": 8765,
    }, config  # fmt: skip
    if shutil.which("systemd-analyze") is not None:
        # The unit as installed, but for ExecStart's program, which is taken from the
        # extracted package (verify checks that it is there and executable).
        copy = tmp_path / "units" / "tongguan-dispatch.service"
        copy.parent.mkdir()
        copy.write_text(unit.replace("=/opt/tongguan/", f"={root}/opt/tongguan/"))
        verified = subprocess.run(
            ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
        )
        assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr


def test_the_desktop_package(debs, tmp_path) -> None:
    deb = debs["tongguan-desktop"]
    files = contents(deb)
    assert "/opt/tongguan/tongguan/tongguan" in files
    for entry in ("tongguan-wall", "tongguan-desk"):
        assert f"/usr/share/applications/{entry}.desktop" in files
    assert "/etc/xdg/autostart/tongguan-wall-kiosk.desktop" in files
    # QtWebEngine makes it at start when run as root: owned, so a purge removes it (verify.sh).
    assert "/opt/tongguan/tongguan/_internal/PySide6/Qt/resources/locales/" in files
    assert "fonts-wqy-microhei" in field(deb, "Depends")
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "--raw-extract", str(deb), str(root)], check=True)
    assert "/etc/tongguan/wall.conf" in (root / "DEBIAN" / "conffiles").read_text()
    # The kiosk starter does nothing unless wall.conf says KIOSK=yes (a desk machine).
    starter = root / "usr" / "bin" / "tongguan-wall-kiosk"
    done = subprocess.run(["sh", str(starter)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0 and not done.stdout
    if shutil.which("desktop-file-validate") is not None:
        for path in (root / "usr" / "share" / "applications").glob("*.desktop"):
            subprocess.run(["desktop-file-validate", str(path)], check=True)
