"""How an example frame of docs/protocol.md is compared with what a running server sent.

The rules (the document's own conventions, §16's introduction):

* **Same messages, same fields.** The message types and every key must be the server's:
  an object shows exactly the keys the server sent, no more and no fewer, unless it has
  the key `"…"` ("unchanged fields", "8 more scopes"), which allows more keys on the
  server's side (never keys the server did not send).
* **Same values,** with the same JSON type (`4` is not `4.0`), except:
  * `"…"` as a value matches anything; a list with items `"… 9 streets in all"` shows
    some of the server's items (each a different one, in any order), and when the text names a count
    (`"… N … in all"`, `"… N people, unchanged"`), the server's list has N items; an
    object's `"…": "N more scopes"` / `"N scopes in all"` counts its keys the same way;
  * `"<token>"` matches any non-empty string (tokens are never shown);
  * values that differ from run to run are **bound**, not compared: times (numbers of at
    least 10⁹), log positions (`seq`, `head`), `epoch`, units versions (`version`,
    `reference`). The first occurrence of a document value binds it to the server's value;
    every later occurrence of the same document value must meet the same server value, and
    different document values must meet different server values (a one-to-one map). When
    a scene is done, the map must keep the order: a later seq or time in the document is a
    later one on the server;
  * KPI figures (numbers under `scopes`, `week`, `month`, `kpis…`, `rows`) depend on the
    day's traffic: only their JSON type is compared; the keys still must match.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.protocol.doc.extract import ELIDED

TOKEN = "<token>"
TIME_FLOOR = 1e9  # a number this large is a time (2001 onwards)
KPI_KEYS = {"scopes", "week", "month", "kpis", "kpis_week", "kpis_month", "rows"}
SEQ_KEYS = {"seq", "head"}
VERSION_KEYS = {"version", "reference"}


@dataclass
class Env:
    """The bindings of one scene: (kind, document value) → server value, one-to-one."""

    forward: dict[tuple[str, Any], Any] = field(default_factory=dict)
    backward: dict[tuple[str, Any], Any] = field(default_factory=dict)

    def copy(self) -> Env:
        """A copy to try a match on (adopted only if it succeeds)."""
        return Env(dict(self.forward), dict(self.backward))

    def adopt(self, other: Env) -> None:
        """Take the bindings of a successful trial."""
        self.forward, self.backward = other.forward, other.backward

    def bind(self, kind: str, doc: Any, actual: Any) -> str | None:
        """Bind a document value to the server's; a problem, or None when consistent."""
        known = self.forward.get((kind, doc), _UNBOUND)
        if known is not _UNBOUND:
            return None if known == actual else f"{kind} {doc!r} was {known!r}, now {actual!r}"
        other = self.backward.get((kind, actual), _UNBOUND)
        if other is not _UNBOUND:
            return f"{kind} {doc!r} and {other!r} are both {actual!r} on the server"
        self.forward[(kind, doc)] = actual
        self.backward[(kind, actual)] = doc
        return None

    def actual(self, kind: str, doc: Any) -> Any:
        """The server's value bound to a document value (KeyError when unbound)."""
        return self.forward[(kind, doc)]

    def order_problems(self) -> list[str]:
        """Seqs and times must keep the document's order."""
        problems = []
        for kind in ("seq", "time"):
            pairs = sorted((d, a) for (k, d), a in self.forward.items() if k == kind)
            for (d1, a1), (d2, a2) in itertools.pairwise(pairs):
                if not a1 < a2:
                    problems.append(f"{kind} {d1} < {d2} in the document but {a1} ≥ {a2}")
        return problems

    def to_actual(
        self, value: Any, token: str, key: str = "", placeholders: dict[str, str] | None = None
    ) -> Any:
        """A client frame of the document as it is sent: bound values replaced by the
        server's, `<token>` by the user's token, other placeholders (`"<the file>"`) by
        what `placeholders` gives for them."""
        if isinstance(value, dict):
            return {k: self.to_actual(v, token, k, placeholders) for k, v in value.items()}
        if isinstance(value, list):
            return [self.to_actual(v, token, key, placeholders) for v in value]
        if value == TOKEN:
            return token
        if placeholders and isinstance(value, str) and value in placeholders:
            return placeholders[value]
        kind = kind_of(key, value, kpi=False)
        if kind is not None:
            return self.forward.get((kind, value), value)
        return value

    def unbound(self, value: Any, key: str = "") -> list[str]:
        """The varying values of a frame that no scene has bound (shown nowhere else)."""
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in self.unbound(v, k)]
        if isinstance(value, list):
            return [p for v in value for p in self.unbound(v, key)]
        kind = kind_of(key, value, kpi=False)
        if kind is not None and (kind, value) not in self.forward:
            return [f"{key}: {value!r}"]
        return []


_UNBOUND = object()


def kind_of(key: str, value: Any, kpi: bool) -> str | None:
    """Which varying kind a document value is, if any."""
    if isinstance(value, bool) or value == ELIDED:
        return None
    if kpi and isinstance(value, (int, float)):
        return "figure"
    if key in SEQ_KEYS and isinstance(value, int):
        return "seq"
    if isinstance(value, float) and value >= TIME_FLOOR:
        return "time"
    if key == "epoch" and isinstance(value, str):
        return "epoch"
    if key in VERSION_KEYS and isinstance(value, str):
        return "version"
    return None


_COUNT = re.compile(r"(\d[\d,]*) (more )?")


def _count(note: str) -> tuple[int, bool] | None:
    """'… 9 streets in all' → (9, False); '8 more scopes' → (8, True); None: no count."""
    found = _COUNT.search(note)
    if found is None:
        return None
    return int(found.group(1).replace(",", "")), bool(found.group(2))


def _elision(item: Any) -> bool:
    return isinstance(item, str) and item.startswith(ELIDED)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) < 160 else text[:157] + "…"


def match(
    doc: Any, actual: Any, env: Env, path: str = "", key: str = "", kpi: bool = False
) -> list[str]:
    """The differences between a document value and the server's (empty: they agree).
    Bindings made on the way stay in `env` (use a copy to try)."""
    if doc == ELIDED:
        return []
    if isinstance(doc, dict):
        if not isinstance(actual, dict):
            return [
                f"{path or '.'}: the document shows an object, the server sent {_short(actual)}"
            ]
        return _match_object(doc, actual, env, path, kpi)
    if isinstance(doc, list):
        if not isinstance(actual, list):
            return [f"{path}: the document shows a list, the server sent {_short(actual)}"]
        return _match_list(doc, actual, env, path, key, kpi)
    if doc == TOKEN:
        ok = isinstance(actual, str) and actual != ""
        return [] if ok else [f"{path}: a token expected, the server sent {_short(actual)}"]
    if type(doc) is not type(actual):
        return [f"{path}: the document shows {_short(doc)}, the server sent {_short(actual)}"]
    kind = kind_of(key, doc, kpi)
    if kind == "figure":
        return []
    if kind is not None:
        problem = env.bind(kind, doc, actual)
        return [] if problem is None else [f"{path}: {problem}"]
    if doc != actual:
        return [f"{path}: the document shows {_short(doc)}, the server sent {_short(actual)}"]
    return []


def _match_object(
    doc: dict[str, Any], actual: dict[str, Any], env: Env, path: str, kpi: bool
) -> list[str]:
    problems = []
    shown = [k for k in doc if k != ELIDED]
    missing = [k for k in shown if k not in actual]
    if missing:
        problems.append(f"{path or '.'}: the server does not send {', '.join(missing)}")
    if ELIDED not in doc:
        extra = [k for k in actual if k not in doc]
        if extra:
            problems.append(
                f"{path or '.'}: the server also sends "
                + ", ".join(f"{k}={_short(actual[k])}" for k in extra)
            )
    elif isinstance(doc[ELIDED], str) and (count := _count(doc[ELIDED])) is not None:
        number, more = count
        expected = len(shown) + number if more else number
        if len(actual) != expected:
            problems.append(
                f"{path or '.'}: {doc[ELIDED]!r} but the server sent {len(actual)} keys"
            )
    for k in shown:
        if k in actual:
            problems += match(doc[k], actual[k], env, f"{path}.{k}", k, kpi or k in KPI_KEYS)
    return problems


def _match_list(
    doc: list[Any], actual: list[Any], env: Env, path: str, key: str, kpi: bool
) -> list[str]:
    notes = [item for item in doc if _elision(item)]
    items = [item for item in doc if not _elision(item)]
    if not notes:
        if len(doc) != len(actual):
            return [f"{path}: {len(doc)} items in the document, {len(actual)} from the server"]
        return [
            p
            for i, (d, a) in enumerate(zip(doc, actual, strict=True))
            for p in match(d, a, env, f"{path}[{i}]", key, kpi)
        ]
    problems = []
    for note in notes:
        count = _count(note)
        if count is not None:
            number, more = count
            expected = len(items) + number if more else number
            if len(actual) != expected:
                problems.append(f"{path}: {note!r} but the server sent {len(actual)}")
    # The items shown are some of the server's (in any order: the lists are not sorted).
    taken: set[int] = set()
    for i, d in enumerate(items):
        for j, a in enumerate(actual):
            if j in taken or not _plausible(d, a):
                continue
            trial = env.copy()
            if not match(d, a, trial, f"{path}[{j}]", key, kpi):
                env.adopt(trial)
                taken.add(j)
                break
        else:
            # Say why against the first candidate of the same identity, if any.
            same = [a for j, a in enumerate(actual) if j not in taken and _plausible(d, a)]
            why = match(d, same[0], env.copy(), f"{path}[?]", key, kpi) if same else []
            problems.append(
                f"{path}: item {i} of the document ({_short(d)}) is not among the server's"
            )
            problems += why[:5]
    return problems


def _plausible(doc: Any, actual: Any) -> bool:
    """A cheap pre-check for list items: objects with the same identity."""
    if isinstance(doc, dict) and isinstance(actual, dict):
        for k in ("code", "name", "kind", "id"):
            if k in doc and doc[k] != actual.get(k):
                return False
    return True


def prefix_problems(frame_text: str, raw: str, env: Env) -> list[str]:
    """A terminal line cut at `…`: the server's compact JSON must begin with what is shown,
    once the bound values (`"seq":1641`, `"epoch":"…"`) are replaced by the server's."""
    shown = frame_text.removesuffix(ELIDED)
    problems = []

    def replace(found: re.Match[str]) -> str:
        key, value = found.group(1), json.loads(found.group(2))
        kind = kind_of(key, value, kpi=False)
        if kind is None:
            return found.group(0)
        try:
            return f'"{key}":{json.dumps(env.actual(kind, value))}'
        except KeyError:
            problems.append(f"{key} {value!r} is bound nowhere")
            return found.group(0)

    shown = re.sub(r'"(\w+)":("[^"]*"|[\d.]+)', replace, shown)
    if not raw.startswith(shown):
        common = next(
            (i for i, (a, b) in enumerate(zip(shown, raw, strict=False)) if a != b), len(raw)
        )
        problems.append(
            f"the line shown is not how the server's begins: from character {common}, "
            f"shown {shown[common : common + 60]!r}, sent {raw[common : common + 60]!r}"
        )
    return problems
