"""The 12345 诉求类型 → category mapping table (resources/intake/hotline_categories.toml).

An unmapped type is never dropped: it maps to the table's `triage` category with the case
marked for triage (待分拨), and a dispatcher classifies it before it can be dispatched.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_DROP = re.compile(r"[\s·•,，、。.;；:：'\"“”‘’()（）\[\]【】<>《》-]+")
_SPLIT = re.compile(r"[/／>＞|｜\\]+")


class MappingError(ValueError):
    """A mapping table that cannot be used; the message says where."""


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), punctuation and spaces dropped, lower case."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text)).lower()


@dataclass(frozen=True, slots=True)
class Mapped:
    """A type's category; `triage` when no rule matched (the category is then the table's
    triage category)."""

    category: str
    triage: bool
    rule: str  # what matched: "types:<key>", "name:<category name>" or "" (triage)


class HotlineMapping:
    """Types to categories, checked against a category table's codes."""

    def __init__(self, types: dict[str, str], triage: str, origin: str = "") -> None:
        self.types = {normalise(k): v for k, v in types.items()}
        self.raw = dict(types)
        self.triage = triage
        self.origin = origin
        self._names: dict[str, str] = {}

    def check(self, categories: dict[str, str]) -> list[str]:
        """Problems against a category table (code → name); also learns the names."""
        problems = [
            f"types.{key!r}: unknown category {code!r}"
            for key, code in self.raw.items()
            if code not in categories
        ]
        if self.triage not in categories:
            problems.append(f"triage: unknown category {self.triage!r}")
        problems += [
            f"types: the key {key!r} is empty once normalised"
            for key in self.raw
            if not normalise(key)
        ]
        self._names = {normalise(name): code for code, name in categories.items()}
        return problems

    def map(self, kind: str) -> Mapped:
        """The category of a 诉求类型 (see the table's header for the order of the rules)."""
        whole = normalise(kind)
        if whole in self.types:
            return Mapped(self.types[whole], False, f"types:{whole}")
        parts = [normalise(p) for p in _SPLIT.split(kind)]
        for part in reversed([p for p in parts if p]):
            if part in self.types:
                return Mapped(self.types[part], False, f"types:{part}")
            if part in self._names:
                return Mapped(self._names[part], False, f"name:{part}")
        if whole in self._names:
            return Mapped(self._names[whole], False, f"name:{whole}")
        return Mapped(self.triage, True, "")


def parse_mapping(data: bytes, origin: str) -> HotlineMapping:
    """Read a mapping table (TOML); MappingError on a shape it cannot use."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{origin}: not TOML: {exc}") from None
    unknown = sorted(set(doc) - {"triage", "types"})
    if unknown:
        raise MappingError(f"{origin}: unknown key(s) {', '.join(unknown)}")
    triage = doc.get("triage")
    if not isinstance(triage, str) or not triage:
        raise MappingError(f"{origin}: triage: a category code is needed")
    types = doc.get("types", {})
    if not isinstance(types, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in types.items()
    ):
        raise MappingError(f"{origin}: [types] must map type names to category codes")
    seen: dict[str, str] = {}
    for key in types:
        norm = normalise(key)
        if norm in seen and seen[norm] != key:
            raise MappingError(f"{origin}: types {seen[norm]!r} and {key!r} are the same key")
        seen[norm] = key
    return HotlineMapping(types, triage, origin)


def default_mapping_path() -> Path:
    """The shipped table."""
    return Path(str(resources.files("resources") / "intake" / "hotline_categories.toml"))


def load_mapping(path: Path | None, categories: Iterable[tuple[str, str]]) -> HotlineMapping:
    """Read and check a table (default: the shipped one) against (code, name) categories."""
    path = path or default_mapping_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    mapping = parse_mapping(data, str(path))
    problems = mapping.check(dict(categories))
    if problems:
        raise MappingError(f"{path}: " + "; ".join(problems))
    return mapping
