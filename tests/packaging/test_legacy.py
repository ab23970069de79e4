"""The second locked set (packaging/legacy: PySide6 6.9 for glibc 2.28), read from its files.

The desktop's tests run on it in CI (`./tg test-legacy`, .ci/run); these check that the set
stays what packaging/README.md says: the main project's dependencies but for PySide6, and a
wheel for glibc 2.28 (manylinux_2_28 or older, or pure Python) of every locked package for
CPython 3.12 and 3.13 on x86_64, so that nothing needs a newer glibc or a compiler.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "packaging" / "legacy"
PYSIDE = ("pyside6-essentials", "pyside6-addons", "pyside6-webengine")


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _project(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_the_legacy_set_is_the_projects_but_for_pyside6() -> None:
    main, legacy = _project(ROOT / "pyproject.toml"), _project(LEGACY / "pyproject.toml")
    main_deps = main["project"]["dependencies"]  # type: ignore[index]
    legacy_deps = legacy["project"]["dependencies"]  # type: ignore[index]
    assert [d for d in main_deps if _name(d) not in PYSIDE] == [
        d for d in legacy_deps if _name(d) not in PYSIDE
    ]
    assert main["dependency-groups"] == legacy["dependency-groups"]  # type: ignore[index]
    assert main["project"]["requires-python"] == legacy["project"]["requires-python"]  # type: ignore[index]
    pyside = sorted(d for d in legacy_deps if _name(d) in PYSIDE)
    assert pyside == ["PySide6-Addons==6.9.3", "PySide6-Essentials==6.9.3"]


def _fits(wheel: str, python: str) -> bool:
    """Whether a wheel file installs on CPython `python` (e.g. "313"), x86_64, glibc 2.28."""
    pythons, abis, platforms = wheel.removesuffix(".whl").split("-")[-3:]
    if not any(
        tag in ("py3", f"cp{python}") or (abi == "abi3" and tag.startswith("cp3"))
        for tag in pythons.split(".")
        for abi in abis.split(".")
    ):
        return False
    if abis != "none" and abis != "abi3" and f"cp{python}" not in abis.split("."):
        return False
    for platform in platforms.split("."):
        if platform == "any" or platform in ("manylinux2014_x86_64", "manylinux1_x86_64"):
            return True
        found = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
        if found and (int(found[1]), int(found[2])) <= (2, 28):
            return True
    return False


def _installed_packages(lock: dict[str, object]) -> list[dict[str, object]]:
    """The locked packages but the (virtual) project itself."""
    packages = []
    for package in lock["package"]:  # type: ignore[attr-defined]
        if package.get("source", {}).get("virtual") or package.get("source", {}).get("editable"):
            continue
        packages.append(package)
    return packages


@pytest.mark.parametrize("python", ["312", "313"])
def test_every_locked_package_has_a_wheel_for_glibc_2_28(python: str) -> None:
    lock = tomllib.loads((LEGACY / "uv.lock").read_text(encoding="utf-8"))
    # Pulled in on Windows only (colorama by pytest and click) need no Linux wheel.
    windows_only = {"colorama", "pywin32-ctypes", "pefile"}
    missing = []
    for package in _installed_packages(lock):
        name = str(package["name"])
        wheels = [str(w["url"]).rsplit("/", 1)[1] for w in package.get("wheels", [])]  # type: ignore[attr-defined]
        if name in windows_only:
            continue
        if not any(_fits(wheel, python) for wheel in wheels):
            missing.append(f"{name} {package['version']}")
    assert not missing, f"no wheel for glibc 2.28, CPython {python}: {missing}"
    versions = {p["name"]: p["version"] for p in lock["package"]}  # type: ignore[attr-defined]
    assert versions["pyside6-essentials"] == "6.9.3"
    assert "pyside6-webengine" not in versions
