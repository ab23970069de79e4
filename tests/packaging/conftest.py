"""The bundles, built once per session by packaging/build.py (when their sources changed)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str):  # type: ignore[no-untyped-def]
    """packaging/NAME.py as a module: packaging/ holds scripts, not a package (its name is
    PyPI's `packaging`'s), and is kept off sys.path."""
    spec = importlib.util.spec_from_file_location(
        f"tg_packaging_{name}", ROOT / "packaging" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


packaging_build = _script("build")


@pytest.fixture(scope="session")
def dist() -> Path:
    """The built bundles (built now when their sources changed since the last build)."""
    subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], check=True, cwd=ROOT)
    return packaging_build.DIST
