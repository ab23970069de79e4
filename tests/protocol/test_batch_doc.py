"""docs/protocol.md §7.4 (report_batch) against a real backend: its example exchange is
played frame by frame and compared with what the server sends, and its figures with the
code's."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import msgspec
from websockets.asyncio.client import connect

from dispatch.limits import Limits
from protocol.commands import BATCH_MAX, BatchItem
from tests.dispatch.conftest import LINGHU, prepared_store, start_server
from tests.protocol.doc.extract import DOC


def section(title: str) -> str:
    """The text of a `###` section of the document, up to the next heading."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n### {title}\n")
    end = re.compile(r"\n#{2,3} ").search(text, start + 1)
    assert end is not None
    return text[start : end.start()]


def frames(text: str) -> list[tuple[str, dict[str, Any]]]:
    """The frames of a section's json blocks, in order, as (direction, JSON): each begins
    on a line starting with `>` (client) or `<` (server) and may span several lines."""
    found = []
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        for frame in re.split(r"^(?=[<>] )", block, flags=re.M):
            if frame.strip():
                found.append((frame[0], json.loads(frame[1:])))
    return found


TITLE = "7.4 report_batch: many reports from an intake gateway"
# Values that differ from run to run: times, and the deadlines computed from them.
TIMES = frozenset({"at", "reported_at", "updated_at", "deadline", "due_at"})
_CODE = re.compile(r"DG-\d{8}-")


def steady(value: Any) -> Any:
    """A frame with its times blanked and the date in event codes left out."""
    if isinstance(value, dict):
        return {k: None if k in TIMES else steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [steady(v) for v in value]
    if isinstance(value, str):
        return _CODE.sub("DG-*-", value)
    return value


async def play(url: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each server frame of the example next to the one the server sent instead."""
    store = prepared_store(url)
    running = await start_server(store)
    compared = []
    try:
        token = store.create_user("菱湖随手拍", "gateway", [LINGHU])
        async with connect(f"ws://127.0.0.1:{running.port}", max_size=None) as ws:
            hello = {"id": 1, "type": "hello", "protocol": 1, "token": token}
            await ws.send(json.dumps(hello))
            for expected in ("welcome", "units", "snapshot"):
                assert json.loads(await ws.recv())["type"] == expected
            shown = frames(section(TITLE))
            for direction, frame in shown:
                if direction == ">":
                    await ws.send(json.dumps(frame, ensure_ascii=False))
                    continue
                while True:
                    sent = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if sent["type"] != "kpis":  # pushed now and then, not part of the example
                        break
                compared.append((frame["type"], frame, sent))
    finally:
        await running.server.stop()
        store.close()
    return compared


async def test_the_example_is_what_the_server_does(tmp_path) -> None:
    compared = await play(f"sqlite:///{tmp_path / 'doc.db'}")
    kinds = [kind for kind, _, _ in compared]
    # Two new events, the result; the repeat's result alone; one new event, the result.
    assert kinds == ["delta", "delta", "result", "result", "delta", "result"]
    for _, shown, sent in compared:
        assert steady(shown) == steady(sent)


def test_the_figures_are_the_codes() -> None:
    text = re.sub(r"\s+", " ", section(TITLE))
    limits = Limits()
    assert f"up to **{BATCH_MAX}** reports" in text
    assert f"at most {BATCH_MAX} reports, and the frame within **64 KiB**" in text
    assert limits.max_frame == 64 * 1024
    assert f"at most **{limits.batches_in_flight}** batches waiting" in text
    busy = (
        f"`{limits.batches_in_flight} batches are waiting for their answers already; "
        "retry with the same command_id once one is answered`"
    )
    assert busy in text
    whole = re.sub(r"\s+", " ", DOC.read_text(encoding="utf-8"))
    assert f"| `report_batch` | 1–{BATCH_MAX} reports" in whole  # §13


def test_the_item_table_lists_the_struct() -> None:
    table = section(TITLE).split("| field | type | default | meaning |")[1]
    listed = re.findall(r"^\s*\| `(\w+)` \|", table, re.M)
    fields = [f.encode_name for f in msgspec.structs.fields(BatchItem)]
    assert listed == fields
