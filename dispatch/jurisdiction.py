"""Jurisdictions as unit-code prefixes: who may see what, decided by one slice and one lookup.

Unit codes nest (checked when the reference is loaded): a street is 9 digits, each of its
communities 12 digits beginning with the street's, each grid 15 digits beginning with its
community's; all begin with their district's 6-digit adcode (340803: 大观区 of 安庆市 3408),
so a store holding several districts of a city needs no other key. A jurisdiction is a set
of codes of one width (districts, streets, or communities), and it covers a key (the code
something is filed under) when the key's first `width` characters are one of its codes. A
change's key is its community's code; log rows written before that were keyed by street,
which street users' prefixes still cover.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

DISTRICT_WIDTH = 6
STREET_WIDTH = 9
COMMUNITY_WIDTH = 12
GRID_WIDTH = 15


def width_of(codes: Collection[str] | None) -> int:
    """The one width of a jurisdiction's codes (0 for everything the store holds, None)."""
    if codes is None:
        return 0
    widths = {len(code) for code in codes}
    if len(widths) > 1:
        raise ValueError(
            f"a jurisdiction's codes must all be of one level: {', '.join(sorted(codes))}"
        )
    return widths.pop() if widths else 0


def covers(codes: Collection[str] | None, width: int, key: str) -> bool:
    """Whether a jurisdiction (its codes and their width) covers something filed under `key`.

    A district's code as the key (its duty: every user of the district reads its centre's
    duty board) is covered by every jurisdiction inside that district."""
    if codes is None or key[:width] in codes:
        return True
    return len(key) == DISTRICT_WIDTH < width and any(
        code[:DISTRICT_WIDTH] == key for code in codes
    )


class DistrictUnclear(ValueError):
    """A request names a district it may not, or none where it must; `code` is the
    protocol's error code to answer with (forbidden or bad_args)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def pick_district(
    codes: Collection[str] | None, asked: str | None, held: Sequence[str], what: str
) -> str:
    """The district a request about a district's own things (its duty, 排班, category
    table: `what`) is about: the one it names, else the user's own, else the store's only
    one. DistrictUnclear when the user holds only some of a district's streets (these are
    the whole district's: forbidden, as its handover reports are), names one outside the
    jurisdiction (forbidden) or one the store does not hold, or names none where the user
    sees several (bad_args)."""
    if codes is not None and width_of(codes) > DISTRICT_WIDTH:
        raise DistrictUnclear(
            "forbidden",
            f"the {what} is the whole district's: not for a user of some streets",
        )
    if codes is not None:
        own = sorted({code[:DISTRICT_WIDTH] for code in codes})
        if asked:
            if asked not in own:
                raise DistrictUnclear(
                    "forbidden",
                    f"district {asked[:20]!r} is outside your jurisdiction ({', '.join(own)})",
                )
            return asked
        if len(own) == 1:
            return own[0]
        raise DistrictUnclear(
            "bad_args",
            f"your jurisdiction spans the districts {', '.join(own)}: name the district whose "
            f"{what} this is (district)",
        )
    if asked:
        if asked not in held:
            raise DistrictUnclear(
                "bad_args",
                f"the backend serves no district {asked[:20]!r} (it serves {', '.join(held)})",
            )
        return asked
    if len(held) == 1:
        return held[0]
    raise DistrictUnclear(
        "bad_args",
        f"the backend serves the districts {', '.join(held)}: name the district whose {what} "
        "this is (district)",
    )


def districts_of(codes: Collection[str] | None) -> list[str] | None:
    """The districts a jurisdiction lies in, in order (None: every district of the store)."""
    return None if codes is None else sorted({code[:DISTRICT_WIDTH] for code in codes})
