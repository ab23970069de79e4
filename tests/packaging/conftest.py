"""The bundles, built once per session by packaging/build.py (when their sources changed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
# packaging/ holds scripts, not a package (its name is PyPI's `packaging`'s).
import build as packaging_build  # noqa: E402

__all__ = ["packaging_build"]


@pytest.fixture(scope="session")
def dist() -> Path:
    """The built bundles (built now when their sources changed since the last build)."""
    subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], check=True, cwd=ROOT)
    return packaging_build.DIST
