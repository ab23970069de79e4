"""docs/intake.md §4 (Open311): every example request is sent, in order, to the real endpoint
of a fresh backend, and its answer must be the one the document shows: JSON compared value by
value, XML element by element (xml.etree); "…" in a shown string is any text, a "…" item
ending a shown list any further items."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tests.dispatch.intake.open311_env import ROOT, Open311, open311_sqlite

__all__ = ["open311_sqlite"]  # the fixture, used by name

DOC = Path(__file__).parents[3] / "docs" / "intake.md"
_BLOCK = re.compile(r"```http open311-(request|response)=(\S+)\n(.*?)```", re.S)
_CODE = re.compile(r"DG-…-(\d{6})")


def examples() -> list[tuple[str, str, str]]:
    """(kind, name, text) of every Open311 example block, in document order."""
    return [(m[1], m[2], m[3]) for m in _BLOCK.finditer(DOC.read_text())]


def _like(shown: Any, got: Any) -> bool:
    if isinstance(shown, str) and "…" in shown and isinstance(got, str):
        pattern = ".*".join(re.escape(part) for part in shown.split("…"))
        return re.fullmatch(pattern, got, re.S) is not None
    if isinstance(shown, dict) and isinstance(got, dict):
        return list(shown) == list(got) and all(_like(shown[k], got[k]) for k in shown)
    if isinstance(shown, list) and isinstance(got, list):
        if shown and shown[-1] == "…":
            head = shown[:-1]
            return len(got) >= len(head) and all(map(_like, head, got[: len(head)]))
        return len(shown) == len(got) and all(map(_like, shown, got))
    return bool(shown == got) and type(shown) is type(got)


def _like_xml(shown: ET.Element, got: ET.Element) -> bool:
    if shown.tag != got.tag or len(shown) != len(got):
        return False
    if len(shown) == 0 and not _like(shown.text or "", got.text or ""):
        return False
    return all(map(_like_xml, shown, got))


def test_every_request_has_its_answer() -> None:
    found = examples()
    requests = [name for kind, name, _ in found if kind == "request"]
    responses = [name for kind, name, _ in found if kind == "response"]
    assert requests == responses and len(requests) >= 15
    assert all(path.startswith(ROOT) for path in _paths(found))


def _paths(found: list[tuple[str, str, str]]) -> list[str]:
    return [text.split()[1] for kind, _, text in found if kind == "request"]


async def test_the_examples_answer_as_documented(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    base = line.url.removesuffix(ROOT)
    codes: dict[str, str] = {}  # "000001" -> the code the server gave it
    requests: dict[str, str] = {}
    for kind, name, text in examples():
        if kind == "request":
            requests[name] = text
            continue
        head, _, body_text = requests[name].partition("\n\n")
        lines = head.strip().splitlines()
        method, path = lines[0].split()
        path = _CODE.sub(lambda m: codes[m[1]], path)
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        answer = await line.http.request(
            method, base + path, content=body_text.strip().encode(), headers=headers
        )
        status_line, _, shown_text = text.strip().partition("\n")
        assert answer.status_code == int(status_line.split()[1]), (name, answer.text)
        if shown_text.startswith("<?xml"):
            assert answer.headers["content-type"] == "text/xml; charset=utf-8", name
            declaration = '<?xml version="1.0" encoding="utf-8"?>'
            assert answer.text.startswith(declaration), name
            shown_xml = ET.fromstring(shown_text.encode())
            got_xml = ET.fromstring(answer.content)
            assert _like_xml(shown_xml, got_xml), (name, answer.text)
            got_codes = [e.text or "" for e in got_xml.iter("service_request_id")]
            shown_codes = [e.text or "" for e in shown_xml.iter("service_request_id")]
        else:
            assert answer.headers["content-type"] == "application/json; charset=utf-8", name
            shown = json.loads(shown_text)
            got = answer.json()
            assert _like(shown, got), (name, got)
            items = got if isinstance(got, list) else [got]
            got_codes = [i.get("service_request_id", "") for i in items if isinstance(i, dict)]
            shown_items = shown if isinstance(shown, list) else [shown]
            shown_codes = [
                i.get("service_request_id", "") for i in shown_items if isinstance(i, dict)
            ]
        for shown_code, got_code in zip(shown_codes, got_codes, strict=False):
            match = _CODE.fullmatch(shown_code)
            if match:
                assert codes.setdefault(match[1], got_code) == got_code, name
