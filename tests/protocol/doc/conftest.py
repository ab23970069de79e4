"""One run of docs/protocol.md against real backends, shared by the tests of this package."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.protocol.doc import casework, session
from tests.protocol.doc.extract import Document, document
from tests.protocol.doc.live import Report
from tests.protocol.doc.world import start_world


@dataclass
class DocRun:
    """What the run found, and the example session's own bindings and units."""

    doc: Document
    report: Report
    session: session.Session


async def _run(doc: Document, tmp: Path) -> DocRun:
    report = Report()
    world = await start_world(f"sqlite:///{tmp / 'world.db'}")
    try:
        played = await session.run(doc, world, report)
    finally:
        await world.server.stop()
    await casework.history(doc, f"sqlite:///{tmp / 'history.db'}", report)
    await casework.admin(doc, f"sqlite:///{tmp / 'admin.db'}", report)
    await casework.tables(doc, f"sqlite:///{tmp / 'tables.db'}", report)
    await casework.triage(doc, tmp, report)
    await casework.intakes(doc, tmp, report)
    await casework.downloads(doc, tmp, report)
    await casework.replays(doc, tmp, report)
    return DocRun(doc, report, played)


@pytest.fixture(scope="package")
def doc_run(tmp_path_factory: pytest.TempPathFactory) -> DocRun:
    """The document's examples played against real backends (once for the package)."""
    return asyncio.run(_run(document(), tmp_path_factory.mktemp("protocol-doc")))
