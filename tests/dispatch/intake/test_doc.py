"""docs/intake.md: every example request is sent, in order, to the real endpoint of a fresh
backend, and its answer must be the one the document shows ("…" in a string: any text)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from dispatch.intake import signing
from tests.dispatch.intake.conftest import KEY, Hotline

DOC = Path(__file__).parents[3] / "docs" / "intake.md"
_BLOCK = re.compile(r"```http (request|response)=(\S+)(?: sign=(\S+))?\n(.*?)```", re.S)


def examples() -> list[tuple[str, str, str, str]]:
    """(kind, name, sign, text) of every example block, in document order."""
    return [(m[1], m[2], m[3] or "ok", m[4]) for m in _BLOCK.finditer(DOC.read_text())]


def _like(shown: Any, got: Any) -> bool:
    if isinstance(shown, str) and "…" in shown and isinstance(got, str):
        pattern = ".*".join(re.escape(part) for part in shown.split("…"))
        return re.fullmatch(pattern, got, re.S) is not None
    if isinstance(shown, list) and isinstance(got, list):
        return len(shown) == len(got) and all(_like(a, b) for a, b in zip(shown, got, strict=True))
    if isinstance(shown, dict) and isinstance(got, dict):
        return shown.keys() == got.keys() and all(_like(shown[k], got[k]) for k in shown)
    return bool(shown == got)


def test_every_request_has_its_answer() -> None:
    found = examples()
    requests = [name for kind, name, _, _ in found if kind == "request"]
    responses = [name for kind, name, _, _ in found if kind == "response"]
    assert requests == responses and len(requests) >= 8


async def test_the_examples_answer_as_documented(hotline_sqlite: Hotline) -> None:
    line = hotline_sqlite
    requests: dict[str, tuple[str, str]] = {}
    for kind, name, sign, text in examples():
        if kind == "request":
            requests[name] = (sign, text)
            continue
        sign, request = requests[name]
        head, _, body_text = request.partition("\n\n")
        lines = head.splitlines()
        method, path = lines[0].split()
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        body = body_text.strip().encode()
        peer = headers.pop("x-tg-peer", "")
        if sign in ("ok", "bad", "replay") or (sign == "ok" and peer):
            headers.update(signing.sign(KEY.encode(), peer, method, path, body))
        elif sign == "stale":
            headers.update(signing.sign(KEY.encode(), peer, method, path, body, time.time() - 600))
        if sign == "bad":
            headers["x-tg-signature"] = signing.signature(
                b"not-the-peers-key-0000", headers["x-tg-timestamp"], "n" * 16, method, path, body
            )
        if sign == "replay":
            first = await line.http.post(line.url + path, content=body, headers=headers)
            assert first.status_code == 200, first.text
        answer = await line.http.request(method, line.url + path, content=body, headers=headers)
        status_line, _, shown_text = text.strip().partition("\n")
        assert answer.status_code == int(status_line.split()[1]), (name, answer.text)
        shown = json.loads(shown_text)
        assert _like(shown, answer.json()), (name, answer.json())
