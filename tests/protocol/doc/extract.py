"""docs/protocol.md read for its tests: sections, fenced blocks, example frames and tables.

An example frame is a JSON message shown in a fenced block: in a ```json block each frame
begins on a line starting with `>` (client → server) or `<` (server → client) and may span
several lines; a block without those marks holds bare messages one after the other (their
`type` tells the direction). A plain ``` block counts when it is a single message (§3.1,
§4.1) or holds `>`/`<` lines (a captured terminal session, whose long lines may be cut at
`…`). The document elides with `…`, which is not JSON; `pseudo_json` turns it into the
string "…" (a value, or an item of a list) and into the key "…" (more keys in an object),
which the comparison (match.py) reads as "anything here".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
ELIDED = "…"
CLIENT_TYPES = {
    "hello",
    "command",
    "ping",
    "stats",
    "history",
    "users",
    "create_user",
    "update_user",
    "revoke_user",
}


@dataclass(frozen=True)
class Frame:
    """One example frame of the document."""

    line: int  # where it begins in docs/protocol.md (1-based)
    section: str  # the title of the heading it is under (without the #s)
    direction: str  # ">" client → server, "<" server → client
    raw: str  # its text as shown (after the direction mark)
    value: Any  # the message, `…` read as elisions; None when the text is not a message
    cut: bool = False  # a terminal line cut at `…`: compare `raw` up to the cut as a prefix

    def where(self) -> str:
        """For messages: the frame's place in the document."""
        return f"docs/protocol.md:{self.line} ({self.section})"


@dataclass(frozen=True)
class Block:
    """A fenced block: its language, first line number (of its content), lines, section."""

    lang: str
    line: int
    lines: tuple[str, ...]
    section: str


@dataclass(frozen=True)
class Document:
    """The parsed document."""

    text: str
    blocks: tuple[Block, ...]
    frames: tuple[Frame, ...]

    def section_text(self, title: str) -> str:
        """The text of the section with this heading title, up to the next heading of the
        same or a higher level (so a `##` section includes its `###` subsections)."""
        match = re.search(rf"^(#{{2,4}}) {re.escape(title)}\n", self.text, re.M)
        assert match is not None, f"no section {title!r} in docs/protocol.md"
        level = len(match.group(1))
        end = re.compile(rf"^#{{2,{level}}} ", re.M).search(self.text, match.end())
        return self.text[match.start() : end.start() if end else len(self.text)]

    def in_section(self, title: str) -> list[Frame]:
        """The frames directly under a heading (not under its subsections), in order."""
        found = [f for f in self.frames if f.section == title]
        assert found, f"no example frames under {title!r}"
        return found

    def blocks_in(self, title: str) -> list[Block]:
        """The fenced blocks directly under a heading."""
        return [b for b in self.blocks if b.section == title]

    def by_block(self, title: str) -> list[list[Frame]]:
        """The frames directly under a heading, one list per fenced block."""
        groups = []
        for block in self.blocks_in(title):
            inside = [
                f for f in self.frames if block.line <= f.line < block.line + len(block.lines)
            ]
            if inside:
                groups.append(inside)
        return groups

    def title(self, prefix: str) -> str:
        """The one heading title that begins with `prefix` (titles may hold figures)."""
        titles = re.findall(rf"^#{{2,4}} ({re.escape(prefix)}.*)$", self.text, re.M)
        assert len(titles) == 1, f"headings beginning {prefix!r}: {titles}"
        return str(titles[0])

    def paragraph(self, start: str) -> str:
        """The paragraph (up to a blank line) that begins with `start`."""
        index = self.text.index(f"\n{start}") + 1
        end = self.text.find("\n\n", index)
        return self.text[index : end if end >= 0 else len(self.text)]

    def table(self, title: str, first: int = 0) -> list[list[str]]:
        """The rows of the `first`-th table of a section (header and rule left out), as
        lists of cell texts."""
        tables: list[list[list[str]]] = []
        current: list[list[str]] | None = None
        for line in self.section_text(title).split("\n"):
            if line.startswith("|"):
                cells = [
                    c.strip().replace("\\|", "|")
                    for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]
                ]
                if current is None:
                    current = []
                    tables.append(current)
                current.append(cells)
            else:
                current = None
        rows = tables[first]
        assert re.fullmatch(r"[-| :]+", "|".join(rows[1])), "a table without a header rule"
        return rows[2:]


def pseudo_json(text: str) -> Any:
    """Parse a frame as the document shows it: JSON, with `…` for what is left out."""
    text = text.replace("{…} | null", ELIDED)  # §4.1: "duty": {…} | null
    out: list[str] = []
    stack: list[str] = []
    want_key = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = i + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == ELIDED:
            if stack and stack[-1] == "{" and want_key:
                out.append(f'"{ELIDED}": "{ELIDED}"')
                want_key = False
            else:
                out.append(f'"{ELIDED}"')
            i += 1
            continue
        if ch in "{[":
            stack.append(ch)
            want_key = ch == "{"
        elif ch in "}]":
            stack.pop()
            want_key = False
        elif ch == ",":
            want_key = bool(stack) and stack[-1] == "{"
        elif ch == ":":
            want_key = False
        out.append(ch)
        i += 1
    return json.loads("".join(out))


def _split_values(text: str) -> list[tuple[int, str]]:
    """Top-level JSON values of a block without direction marks: (line offset, text)."""
    values = []
    depth = 0
    start = None
    in_string = False
    escaped = False
    for index, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            if depth == 0:
                start = index
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0 and start is not None:
                values.append((text.count("\n", 0, start), text[start : index + 1]))
                start = None
    return values


def _frames_of(block: Block) -> list[Frame]:
    body = "\n".join(block.lines)
    frames = []
    if block.lang == "json" and not re.search(r"^[<>] ", body, re.M):
        for offset, text in _split_values(body):
            value = pseudo_json(text)
            direction = ">" if value.get("type") in CLIENT_TYPES else "<"
            frames.append(Frame(block.line + offset, block.section, direction, text, value))
        return frames
    if block.lang == "json":
        starts = [i for i, line in enumerate(block.lines) if re.match(r"[<>] ", line)]
        assert starts and starts[0] == 0, f"docs/protocol.md:{block.line}: text before a frame"
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(block.lines)
            text = "\n".join(block.lines[start:end])[2:]
            direction = block.lines[start][0]
            frames.append(
                Frame(block.line + start, block.section, direction, text, pseudo_json(text))
            )
        return frames
    if block.lang == "" and block.lines and block.lines[0].startswith("{"):
        return [Frame(block.line, block.section, "?", body, None)]  # typed below
    for i, line in enumerate(block.lines):
        if re.match(r"[<>] \{", line):
            text = line[2:]
            try:
                value = pseudo_json(text)
                cut = False
            except (json.JSONDecodeError, IndexError):
                value, cut = None, text.endswith(ELIDED)
            frames.append(Frame(block.line + i, block.section, line[0], text, value, cut))
    return frames


def _typed(frame: Frame) -> Frame:
    """A plain block holding one message: its direction from its type."""
    if frame.direction != "?":
        return frame
    value = pseudo_json(frame.raw)
    direction = ">" if value.get("type") in CLIENT_TYPES else "<"
    return Frame(frame.line, frame.section, direction, frame.raw, value)


@cache
def document() -> Document:
    """docs/protocol.md, parsed (once per test run)."""
    return parse(DOC.read_text(encoding="utf-8"))


def parse(text: str) -> Document:
    """A text in the document's conventions, parsed."""
    lines = text.split("\n")
    blocks = []
    section = ""
    i = 0
    while i < len(lines):
        heading = re.match(r"#{2,4} (.*)", lines[i])
        if heading:
            section = heading.group(1)
        if lines[i].startswith("```"):
            lang = lines[i][3:].strip()
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            blocks.append(Block(lang, i + 2, tuple(lines[i + 1 : j]), section))
            i = j
        i += 1
    frames = []
    for block in blocks:
        try:
            frames.extend(_typed(f) for f in _frames_of(block))
        except (json.JSONDecodeError, IndexError) as exc:
            raise AssertionError(f"docs/protocol.md:{block.line}: unreadable frame: {exc}") from exc
    return Document(text, tuple(blocks), tuple(frames))
