"""Every example frame of docs/protocol.md is what a running backend sends (or accepts).

The document is played against real backends on real SQLite files (conftest.py: the
example session on the morning of world.py, §6.8 and §6.9 on the test users), and each
frame is compared as match.py says: same messages and fields, same values but for those
that vary from run to run (times, seqs, epochs, versions, tokens), which must vary
consistently. A section with a stale frame fails here with what the server sent instead.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.protocol.doc.conftest import DocRun
from tests.protocol.doc.extract import document

# Sections checked that show no frames of their own (prose the runs measure).
PROSE = (
    "1. Transport",
    "GET /health",
    "A complete example session",
    "Refusals at the handshake (same backend)",
)
# Sections whose frames another test plays against a real backend, frame by frame.
PLAYED_ELSEWHERE = {
    "7.4 report_batch: many reports from an intake gateway": "tests/protocol/test_batch_doc.py",
    "4.4 risk": "tests/protocol/test_risk_doc.py",
}
SECTIONS = sorted(({f.section for f in document().frames} | set(PROSE)) - set(PLAYED_ELSEWHERE))


@pytest.mark.parametrize("section", SECTIONS)
def test_the_section_shows_what_the_server_does(doc_run: DocRun, section: str) -> None:
    assert section in doc_run.report.visited, f"nothing compared {section!r} with the server"
    problems = doc_run.report.problems.get(section, [])
    assert not problems, "\n".join(problems)


def test_every_example_frame_is_compared_with_the_server(doc_run: DocRun) -> None:
    unchecked = [
        f.where()
        for f in doc_run.doc.frames
        if f.line not in doc_run.report.checked and f.section not in PLAYED_ELSEWHERE
    ]
    assert not unchecked, "example frames no test plays: " + ", ".join(unchecked)


def test_no_problem_is_filed_under_a_section_nobody_looks_at(doc_run: DocRun) -> None:
    stray = {s: p for s, p in doc_run.report.problems.items() if p and s not in SECTIONS}
    assert not stray, stray


def test_the_units_figures_are_the_servers(doc_run: DocRun) -> None:
    """Sizes, versions and counts the prose gives for the demo district's units: the units
    do not depend on the day's traffic, so they are exact (and change only with the
    district data, the category table or the calendar)."""
    session = doc_run.session
    text = re.sub(r"\s+", " ", doc_run.doc.text)  # prose wraps anywhere
    district = len(session.units["demo-commander"])
    street = len(session.units["demo-linghu"])
    versions = {
        doc: actual for (kind, doc), actual in session.env.forward.items() if kind == "version"
    }
    assert all(doc == actual for doc, actual in versions.items()), versions
    assert len(versions) == 2, versions  # one for district-wide users, one for 菱湖街道
    assert f"**{district:,} bytes** for a district-wide user" in text
    assert f"{street:,} bytes for a one-street user" in text
    assert f"### The units ({district:,} bytes; abbreviated)" in text
    assert f"the district-wide `units` at {district:,} bytes" in text
    assert f"(about {district / 1e6:.2f} MB for the demo" in text
    assert re.search(rf"far smaller messages \({street:,}\s+and about", text)
    # The street user's units, as the example session describes them.
    reference = json.loads(session.units["demo-linghu"])["reference"]
    counts = ", ".join(
        f"{len(reference[k])} {n}"
        for k, n in (
            ("streets", "street"),
            ("communities", "communities"),
            ("grids", "grids"),
            ("cameras", "cameras"),
        )
    )
    said = re.search(
        r"version\s+`(\w+)`, ([\d,]+) bytes: (.*?), and the\s+complete outline, "
        r"(\d+) departments and (\d+) categories",
        text,
    )
    assert said is not None
    assert (said.group(2), said.group(3)) == (f"{street:,}", counts)
    assert (int(said.group(4)), int(said.group(5))) == (
        len(reference["departments"]),
        len(reference["categories"]),
    )
