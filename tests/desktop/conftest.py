"""The desktop is tested against a real backend (its fixtures are reused) and offscreen Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

from tests.dispatch.conftest import sqlite_store  # noqa: F401
