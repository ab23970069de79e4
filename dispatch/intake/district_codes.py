"""A code an intake's configuration names (a 12345 mapping's category, a Frigate label's
detection kind) in a store of several districts (docs/city.md).

Bare (`01-02`, `exposed_garbage`): the code in every district whose table has it (the
default tables share their codes). Keyed by a district's adcode (`340802:01-02`), as the
store keys a further district's rows: that district's code only, e.g. one only its table
has. A report is resolved in its own point's (or camera's) district's table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping


def split(code: str) -> tuple[str, str]:
    """(district, code): `340802:01-02` -> ("340802", "01-02"); a bare code's district ""."""
    district, keyed, bare = code.partition(":")
    return (district, bare) if keyed else ("", code)


def unknown(code: str, tables: Mapping[str, Collection[str]]) -> str | None:
    """Why `code` names no code of the districts' tables (district -> its codes), or None
    when it names one."""
    district, bare = split(code)
    if district:
        if district not in tables:
            served = ", ".join(d for d in tables if d)
            return f"no district {district} is served here (served: {served or 'one, unnamed'})"
        if bare not in tables[district]:
            return f"{bare!r} is not in district {district}'s table"
        return None
    if not any(bare in table for table in tables.values()):
        return f"{bare!r} is in no district's table"
    return None


def resolve(code: str, district: str, table: Collection[str]) -> str | None:
    """The code of `district`'s table that `code` names there (bare, as the table has it),
    or None: a bare code its table lacks, or a code keyed by another district."""
    owner, bare = split(code)
    if owner and owner != district:
        return None
    return bare if bare in table else None
