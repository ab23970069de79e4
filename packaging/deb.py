"""Build the Debian packages from the bundles with dpkg-deb, then run lintian on them.

    .venv/bin/python packaging/deb.py [--dist DIR] [--version V] [--no-lintian]

tongguan-dispatch: the backend's bundle in /opt/tongguan, a system user, /var/lib/tongguan
(700), /etc/tongguan/dispatch.toml (conffile), a hardened systemd unit; postinst migrates.
tongguan-desktop: the wall and desk bundle, their .desktop entries, the kiosk autostart.
The files other than the bundles are in packaging/debian/ (packaging/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "packaging" / "debian"
DIST = Path(os.environ.get("TG_DIST") or ROOT / "dist")
MAINTAINER = "Tongguan project <tongguan@example.org>"
HOMEPAGE = "https://example.org/tongguan"
# The runtime a bundle needs of the system: what PyInstaller leaves out (glibc, the
# graphics stack, fonts). The desktop's list is ./tg's QT_DEBS. The backend's PDFs (the
# handover report, WeasyPrint) need Pango, HarfBuzz's subsetter and a CJK font.
DISPATCH_DEPENDS = [
    "libc6 (>= 2.36)", "adduser", "init-system-helpers (>= 1.52)", "libpango-1.0-0",
    "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-wqy-microhei",
]  # fmt: skip
DESKTOP_DEPENDS = [
    "libc6 (>= 2.36)", "libegl1", "libgl1", "libglib2.0-0", "libxkbcommon0",
    "libxkbcommon-x11-0", "libfontconfig1", "libdbus-1-3", "libnss3", "libxcomposite1",
    "libxdamage1", "libxrandr2", "libxtst6", "libxshmfence1", "libgbm1", "libasound2",
    "libxkbfile1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
    "libxcb-render-util0", "libxcb-xinerama0", "libxcb-shape0", "libxcb-xkb1",
    "fonts-wqy-microhei",
]  # fmt: skip


def project_version() -> str:
    """pyproject's version with the build time: each build upgrades the one before."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = str(tomllib.load(handle)["project"]["version"])
    return f"{version}+{time.strftime('%Y%m%d%H%M%S', time.gmtime())}"


def architecture() -> str:
    """dpkg's name for this machine's architecture (amd64)."""
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def install(source: Path, dest: Path, mode: int) -> None:
    """Copy a file into the package tree with its mode."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)
    dest.chmod(mode)


def doc(tree: Path, package: str, version: str, extra: list[Path]) -> None:
    """/usr/share/doc/PACKAGE: copyright, changelog.Debian.gz, and the documents given."""
    where = tree / "usr" / "share" / "doc" / package
    where.mkdir(parents=True, exist_ok=True)
    (where / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: tongguan\n\n"
        "Files: *\nCopyright: The Tongguan project\nLicense: MIT\n"
        " The bundle also carries Python, Qt (LGPL-3), Chromium (QtWebEngine) and the\n"
        " Python libraries listed in uv.lock, under their own licenses.\n",
        encoding="utf-8",
    )
    when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    changelog = (
        f"{package} ({version}) unstable; urgency=medium\n\n"
        "  * Built by ./tg package from the Tongguan sources.\n\n"
        f" -- {MAINTAINER}  {when}\n"
    )
    with gzip.GzipFile(where / "changelog.Debian.gz", "wb", mtime=0) as handle:
        handle.write(changelog.encode())
    for path in extra:
        install(path, where / path.name, 0o644)


def control(tree: Path, fields: dict[str, str], description: str) -> None:
    """DEBIAN/control, with Installed-Size from the tree."""
    size = sum(p.lstat().st_size for p in tree.rglob("*") if not p.is_dir()) // 1024
    lines = [f"{k}: {v}" for k, v in fields.items()]
    lines.append(f"Installed-Size: {size}")
    summary, _, body = description.partition("\n")
    lines.append(f"Description: {summary}")
    lines += [f" {line}" if line else " ." for line in body.strip().splitlines()]
    (tree / "DEBIAN").mkdir(exist_ok=True)
    (tree / "DEBIAN" / "control").write_text("\n".join(lines) + "\n", encoding="utf-8")


def bundle(tree: Path, name: str, dist: Path) -> None:
    """The built bundle DIST/NAME into /opt/tongguan/NAME (symlinks kept)."""
    built = dist / name
    if not (built / name).exists():
        raise SystemExit(f"no bundle {built}: run `./tg package bundles` first")
    target = tree / "opt" / "tongguan" / name
    shutil.copytree(built, target, symlinks=True)
    # Shared libraries are loaded, not run: not executable (wheels ship some 0755).
    for path in target.rglob("*.so*"):
        if path.is_file() and not path.is_symlink() and ".so" in path.name:
            path.chmod(0o644)


def dpkg_deb(tree: Path, out: Path) -> Path:
    """Build the .deb (root:root files without fakeroot; gzip: xz takes minutes on the
    desktop bundle, and every dpkg, an old Kylin's too, reads gzip)."""
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(tree), str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def build_dispatch(dist: Path, version: str, arch: str) -> Path:
    """The tongguan-dispatch .deb."""
    package = "tongguan-dispatch"
    tree = dist / ".deb" / package
    shutil.rmtree(tree, ignore_errors=True)
    src = HERE / package
    bundle(tree, package, dist)
    install(src / "dispatch.toml", tree / "etc" / "tongguan" / "dispatch.toml", 0o640)
    unit = tree / "lib" / "systemd" / "system" / f"{package}.service"
    install(src / f"{package}.service", unit, 0o644)
    (tree / "usr" / "bin").mkdir(parents=True)
    (tree / "usr" / "bin" / package).symlink_to(f"/opt/tongguan/{package}/{package}")
    overrides = tree / "usr" / "share" / "lintian" / "overrides" / package
    install(src / "lintian-overrides", overrides, 0o644)
    doc(tree, package, version, [ROOT / "docs" / "operations.md", ROOT / "docs" / "intake.md",
                                 ROOT / "packaging" / "README.md"])  # fmt: skip
    for script in ("postinst", "prerm", "postrm"):
        install(src / script, tree / "DEBIAN" / script, 0o755)
    (tree / "DEBIAN" / "conffiles").write_text("/etc/tongguan/dispatch.toml\n")
    control(
        tree,
        {
            "Package": package,
            "Version": version,
            "Architecture": arch,
            "Maintainer": MAINTAINER,
            "Section": "net",
            "Priority": "optional",
            "Depends": ", ".join(DISPATCH_DEPENDS),
            "Recommends": "postgresql-client",
            "Homepage": HOMEPAGE,
        },
        "dispatch backend of the Tongguan command centre\n"
        "The websocket backend of a district social-governance linkage centre: cases,\n"
        "alerts, duty, the audit log, and the intakes (12345, Open311, MQTT). A\n"
        "self-contained bundle in /opt/tongguan run as the tongguan-dispatch service,\n"
        "configured in /etc/tongguan/dispatch.toml; data in /var/lib/tongguan.",
    )
    return dpkg_deb(tree, dist / f"{package}_{version}_{arch}.deb")


def build_desktop(dist: Path, version: str, arch: str) -> Path:
    """The tongguan-desktop .deb."""
    package = "tongguan-desktop"
    tree = dist / ".deb" / package
    shutil.rmtree(tree, ignore_errors=True)
    src = HERE / package
    bundle(tree, "tongguan", dist)
    # QtWebEngine makes this empty directory at its start wherever it may write (the wall
    # run as root): the package owns it, so that removing the package removes it too
    # instead of leaving /opt/tongguan/tongguan behind.
    qt_resources = tree / "opt" / "tongguan" / "tongguan" / "_internal" / "PySide6" / "Qt"
    if (qt_resources / "resources").is_dir():
        (qt_resources / "resources" / "locales").mkdir(exist_ok=True)
    apps = tree / "usr" / "share" / "applications"
    install(src / "tongguan-wall.desktop", apps / "tongguan-wall.desktop", 0o644)
    install(src / "tongguan-desk.desktop", apps / "tongguan-desk.desktop", 0o644)
    autostart = tree / "etc" / "xdg" / "autostart" / "tongguan-wall-kiosk.desktop"
    install(src / "tongguan-wall-kiosk.desktop", autostart, 0o644)
    install(src / "wall.conf", tree / "etc" / "tongguan" / "wall.conf", 0o644)
    install(src / "tongguan-wall-kiosk", tree / "usr" / "bin" / "tongguan-wall-kiosk", 0o755)
    (tree / "usr" / "bin" / "tongguan").symlink_to("/opt/tongguan/tongguan/tongguan")
    overrides = tree / "usr" / "share" / "lintian" / "overrides" / package
    install(src / "lintian-overrides", overrides, 0o644)
    doc(tree, package, version, [ROOT / "packaging" / "README.md"])
    (tree / "DEBIAN").mkdir(exist_ok=True)
    (tree / "DEBIAN" / "conffiles").write_text(
        "/etc/tongguan/wall.conf\n/etc/xdg/autostart/tongguan-wall-kiosk.desktop\n"
    )
    control(
        tree,
        {
            "Package": package,
            "Version": version,
            "Architecture": arch,
            "Maintainer": MAINTAINER,
            "Section": "misc",
            "Priority": "optional",
            "Depends": ", ".join(DESKTOP_DEPENDS),
            "Homepage": HOMEPAGE,
        },
        "wall display and desk of the Tongguan command centre\n"
        "The wall (大屏) and the desk (中屏管) of a district social-governance linkage\n"
        "centre, with QtWebEngine, as a self-contained bundle in /opt/tongguan. A kiosk\n"
        "wall starts at login when /etc/tongguan/wall.conf says KIOSK=yes.",
    )
    return dpkg_deb(tree, dist / f"{package}_{version}_{arch}.deb")


def lintian(debs: list[Path]) -> int:
    """lintian at error level: 0 when clean (warnings are printed, not failed on)."""
    if shutil.which("lintian") is None:
        print("[package] lintian not installed: not checked", file=sys.stderr)
        return 1
    result = subprocess.run(
        ["lintian", "--fail-on", "error", "--suppress-tags", "file-references-package-build-path",
         *map(str, debs)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    out = result.stdout + result.stderr
    errors = [line for line in out.splitlines() if re.match(r"^E: ", line)]
    summary = re.findall(r"^([EWIP]): \S+: (\S+)", out, re.MULTILINE)
    counts: dict[str, int] = {}
    for level, tag in summary:
        counts[f"{level}: {tag}"] = counts.get(f"{level}: {tag}", 0) + 1
    for tag, n in sorted(counts.items()):
        print(f"[lintian] {tag} ({n})")
    print(f"[lintian] {len(errors)} error(s)" + ("" if result.returncode else ": clean"))
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    """Build both packages from the bundles in DIST, then lintian them."""
    parser = argparse.ArgumentParser(prog="./tg package deb", description=__doc__)
    parser.add_argument("--dist", type=Path, default=DIST)
    parser.add_argument("--version", default=None, help="default: pyproject's + build time")
    parser.add_argument("--no-lintian", action="store_true")
    args = parser.parse_args(argv)
    version = args.version or project_version()
    arch = architecture()
    debs = [build_dispatch(args.dist, version, arch), build_desktop(args.dist, version, arch)]
    shutil.rmtree(args.dist / ".deb", ignore_errors=True)
    for deb in debs:
        print(f"[package] {deb.name}: {deb.stat().st_size / 2**20:.0f} MiB")
    return 0 if args.no_lintian else lintian(debs)


if __name__ == "__main__":
    sys.exit(main())
