"""The desktop is tested against a real backend: reuse the backend's fixtures."""

from tests.dispatch.conftest import sqlite_store  # noqa: F401
