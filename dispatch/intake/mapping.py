"""The 12345 诉求类型 → category mapping table (resources/intake/hotline_categories.toml).

An unmapped type is never dropped: it maps to the table's `triage` category with the case
marked for triage (待分拨), and a dispatcher classifies it before it can be dispatched.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.intake.district_codes import resolve, split, unknown

if TYPE_CHECKING:
    from dispatch.reference import ReferenceData

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
    """Types to categories, checked against the districts' category tables (a code bare or
    keyed by its district: district_codes.py)."""

    def __init__(self, types: dict[str, str], triage: str, origin: str = "") -> None:
        self.types = {normalise(k): v for k, v in types.items()}
        self.raw = dict(types)
        self.triage = triage
        self.origin = origin
        self._first = ""
        self._codes: dict[str, frozenset[str]] = {}
        self._names: dict[str, dict[str, str]] = {}

    def check(self, tables: Mapping[str, Mapping[str, str]]) -> list[str]:
        """Problems against the districts' category tables (district -> code -> name; the
        first district first, a single table may be keyed ""); also learns them."""
        problems = []
        for key, code in self.raw.items():
            why = unknown(code, tables)
            if why is not None:
                problems.append(f"types.{key!r}: unknown category {code!r} ({why})")
        lacking = [d for d, table in tables.items() if resolve(self.triage, d, table) is None]
        if len(lacking) == len(tables):
            problems.append(f"triage: unknown category {self.triage!r}")
        elif lacking:
            problems.append(
                f"triage: category {self.triage!r} is not in the table of district"
                f" {', '.join(lacking)} (a case waiting for triage there is counted under it)"
            )
        problems += [
            f"types: the key {key!r} is empty once normalised"
            for key in self.raw
            if not normalise(key)
        ]
        self._first = next(iter(tables), "")
        self._codes = {d: frozenset(table) for d, table in tables.items()}
        self._names = {
            d: {normalise(name): code for code, name in table.items()}
            for d, table in tables.items()
        }
        return problems

    def map(self, kind: str, district: str = "") -> Mapped:
        """The category of a 诉求类型 in a district's table (default: the first's; see the
        table's header for the order of the rules): a rule whose code the district's table
        lacks (or that names another district's) is passed over."""
        district = district if district in self._codes else self._first
        codes = self._codes.get(district, frozenset())
        names = self._names.get(district, {})

        def typed(key: str) -> str | None:
            code = self.types.get(key)
            return None if code is None else resolve(code, district, codes)

        whole = normalise(kind)
        hit = typed(whole)
        if hit is not None:
            return Mapped(hit, False, f"types:{whole}")
        parts = [normalise(p) for p in _SPLIT.split(kind)]
        for part in reversed([p for p in parts if p]):
            hit = typed(part)
            if hit is not None:
                return Mapped(hit, False, f"types:{part}")
            if part in names:
                return Mapped(names[part], False, f"name:{part}")
        if whole in names:
            return Mapped(names[whole], False, f"name:{whole}")
        triage = resolve(self.triage, district, codes) or split(self.triage)[1]
        return Mapped(triage, True, "")


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


def load_mapping(path: Path | None, tables: Mapping[str, Mapping[str, str]]) -> HotlineMapping:
    """Read and check a table (default: the shipped one) against the districts' category
    tables (district -> code -> name, the first district first)."""
    path = path or default_mapping_path()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    mapping = parse_mapping(data, str(path))
    problems = mapping.check(tables)
    if problems:
        raise MappingError(f"{path}: " + "; ".join(problems))
    return mapping


def district_tables(reference: ReferenceData) -> dict[str, dict[str, str]]:
    """Each district's category table (code -> name) of the store a backend serves, the
    first district first."""
    return {
        district: {code: k.name for code, k in reference.categories_of(district).items()}
        for district in reference.districts
    }
