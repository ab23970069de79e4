"""Regenerate the wall's English translation: `python -m desktop.i18n.update [--check]`.

pyside6-lupdate extracts the strings of every .py file under desktop/ and widgets/ into
tongguan_en.ts (source zh_CN, target en), keeping the existing translations and dropping
obsolete ones (-no-obsolete); pyside6-lrelease then compiles it into tongguan_en.qm, which
the app loads for `--lang en`. Translate new strings in the .ts (set the text, drop
`type="unfinished"`) and run the update again.

`--check` changes nothing. It fails when a source string is missing from the .ts (or the .ts
holds one the sources no longer have), a translation is unfinished, a translation loses a
placeholder (%s, %1, {0}, %%) or the leading/trailing space it is glued on with, or the
committed .qm is not byte for byte what lrelease makes of the committed .ts.

What lupdate 6.12 reads in Python: `self.tr("…")` inside a class (context: the class),
`QCoreApplication.translate("Context", "…")` and `QT_TRANSLATE_NOOP("Context", "…")`, with
literal strings. What it gets wrong, silently:

- a context given as a variable (`QT_TRANSLATE_NOOP(_T, "…")`, `translate(_T, "…")`): the
  call is skipped, the string never reaches the .ts;
- `tr` reached in any other way (`tr = self.tr`, a `tr` parameter, `window.tr(…)`): filed
  under a context Qt never asks for ("", "self.self", "window"). At run time PySide looks a
  `tr` string up under the class names of the object's MRO, wherever the call is written:
  `window.tr(…)` in ui/app.py and the `tr` that WallWindow passes to kpi_tiles() are both
  looked up under "WallWindow".

So this script reads the sources too (with `ast`), resolves those contexts (module string
constants; `tr` aliases, `tr` parameters through their callers, `obj.tr` where `obj = Cls(…)`)
and hands lupdate line-for-line copies in which such calls read
`QCoreApplication.translate("Context", "…")`: the .ts keeps the real file names and lines.
What it cannot resolve is an error, and lupdate's result must equal this reading.
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOURCE_DIRS = ("desktop", "widgets")
TS = HERE / "tongguan_en.ts"
QM = HERE / "tongguan_en.qm"
SOURCE_LANGUAGE = "zh_CN"
TARGET_LANGUAGE = "en"

_APPLICATIONS = {"QCoreApplication", "QGuiApplication", "QApplication"}
_NOOPS = {"QT_TRANSLATE_NOOP": 2, "QT_TRANSLATE_NOOP3": 3}
_UNSUPPORTED = {
    "QT_TR_NOOP",
    "QT_TR_N_NOOP",
    "QT_TRANSLATE_N_NOOP",
    "QT_TRANSLATE_N_NOOP3",
    "QT_TRID_NOOP",
    "qtTrId",
}
_PLACEHOLDER = re.compile(r"%%|%L?\d+|%[sdif]|\{\w*\}")
_SPACE = " \t\n\u3000"

Function = ast.FunctionDef | ast.AsyncFunctionDef
Fns = tuple[Function, ...]  # the functions around a call, outermost first
Call = tuple[ast.Call, str | None, Fns]  # a call, its innermost class, its functions
Edit = tuple[int, int, bytes]  # replace data[start:end] by bytes


@dataclass(frozen=True, slots=True, order=True)
class Message:
    """One translatable string as Qt looks it up."""

    context: str
    source: str
    comment: str = ""

    def __str__(self) -> str:
        extra = f" ({self.comment})" if self.comment else ""
        return f"[{self.context}] {self.source!r}{extra}"


@dataclass
class Scan:
    """What the sources hold, read independently of lupdate."""

    messages: dict[Message, list[str]] = field(default_factory=dict)  # -> "path:line"
    copies: dict[str, bytes] = field(default_factory=dict)  # path -> text handed to lupdate
    notes: list[str] = field(default_factory=list)  # calls lupdate gets rewritten
    errors: list[str] = field(default_factory=list)


@dataclass
class _File:
    path: str
    data: bytes
    tree: ast.Module
    constants: dict[str, str]
    calls: list[Call]
    functions: dict[str, Function]
    translators: dict[str, str]  # module functions that translate in one context: name -> it
    imports: dict[str, tuple[str, str]]  # local name -> (module's path, its name there)


# ---- reading the sources -------------------------------------------------------------------


def sources(root: Path = ROOT) -> list[str]:
    """Every .py file under the source folders, as sorted paths relative to the root."""
    found = [
        path.relative_to(root).as_posix()
        for folder in SOURCE_DIRS
        for path in (root / folder).rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    return sorted(found)


def _calls(tree: ast.Module) -> Iterator[Call]:
    """Every call with its innermost class and its functions (what lupdate and PySide see)."""

    def visit(node: ast.AST, cls: str | None, fn: Fns) -> Iterator[Call]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, child.name, fn)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, cls, (*fn, child))
            else:
                if isinstance(child, ast.Call):
                    yield child, cls, fn
                yield from visit(child, cls, fn)

    yield from visit(tree, None, ())


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound once to a string literal (`_T = "Texts"`)."""
    values: dict[str, list[object]] = collections.defaultdict(list)
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id].append(_str(node.value))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            values[node.target.id].append(_str(node.value) if node.value else None)
    return {
        name: found[0]
        for name, found in values.items()
        if len(found) == 1 and isinstance(found[0], str)
    }


def _str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _translators(functions: dict[str, Function]) -> dict[str, str]:
    """Module functions `def tr(source): return QCoreApplication.translate("Ctx", source)`
    (a docstring allowed): their calls with a literal are that context's messages."""
    found: dict[str, str] = {}
    for name, fn in functions.items():
        body = [n for n in fn.body if not (isinstance(n, ast.Expr) and _str(n.value))]
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if len(body) != 1 or len(params) != 1 or not isinstance(body[0], ast.Return):
            continue
        call = body[0].value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "translate"
            and isinstance(call.func.value, ast.Name)
            and call.func.value.id in _APPLICATIONS
            and len(call.args) == 2
            and _str(call.args[0]) is not None
            and isinstance(call.args[1], ast.Name)
            and call.args[1].id == params[0]
        ):
            found[name] = str(_str(call.args[0]))
    return found


def _imports(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """`from a.b import c as d` at module level: d -> ("a/b.py", "c")."""
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            path = node.module.replace(".", "/") + ".py"
            for alias in node.names:
                found[alias.asname or alias.name] = (path, alias.name)
    return found


def _read(root: Path, path: str) -> _File:
    data = (root / path).read_bytes()
    tree = ast.parse(data, filename=path)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    return _File(
        path,
        data,
        tree,
        _constants(tree),
        list(_calls(tree)),
        functions,
        _translators(functions),
        _imports(tree),
    )


class _Reader:
    """Finds the translatable calls of all files and the contexts Qt looks them up in."""

    def __init__(self, files: list[_File]) -> None:
        self.files = files
        self.scan = Scan()
        self.translators = {f.path: f.translators for f in files}

    def run(self) -> Scan:
        for file in self.files:
            edits: list[Edit] = []
            for call, cls, fns in file.calls:
                edit = self._call(file, call, cls, fns)
                if edit is not None:
                    edits.append(edit)
            self.scan.copies[file.path] = _apply(file.data, edits)
        return self.scan

    # -- one call --

    def _call(self, file: _File, call: ast.Call, cls: str | None, fns: Fns) -> Edit | None:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        where = f"{file.path}:{call.lineno}"
        if name in _UNSUPPORTED:
            self.scan.errors.append(f"{where}: {name} is not handled by this script")
            return None
        if name in _NOOPS:
            return self._translate(file, call, where, call.args, _NOOPS[name], strict=True)
        if (
            name == "translate"
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in _APPLICATIONS
        ):
            return self._translate(file, call, where, call.args, 3, strict=False)
        if name == "tr":
            return self._tr(file, call, cls, fns, where)
        return None

    def _translate(
        self, file: _File, call: ast.Call, where: str, args: list[ast.expr], most: int, strict: bool
    ) -> Edit | None:
        """QT_TRANSLATE_NOOP(context, source[, comment]) or translate(context, source[, …])."""
        if len(args) < 2 or call.keywords:
            self.scan.errors.append(f"{where}: expected (context, source[, disambiguation])")
            return None
        source = self._source(file, args[1], where, lookup_ok=not strict)
        if source is None:
            return None
        if len(args) > most:
            self.scan.errors.append(f"{where}: plural forms (n) are not handled by this script")
            return None
        comment = self._comment(args[2] if len(args) > 2 else None, where)
        context_node = args[0]
        context = _str(context_node)
        rewrite = False
        if context is None and isinstance(context_node, ast.Name):
            context = file.constants.get(context_node.id)
            rewrite = context is not None
            if rewrite:
                self._note(f"{file.path}: context given as a variable ({context_node.id})")
        if context is None:
            self.scan.errors.append(f"{where}: cannot tell the context of {source!r}")
            return None
        return self._found(file, call, where, [context], source, comment, rewrite)

    def _tr(
        self, file: _File, call: ast.Call, cls: str | None, fns: Fns, where: str
    ) -> Edit | None:
        """self.tr / obj.tr / tr(source[, disambiguation])."""
        if not call.args or call.keywords:
            return None
        source = self._source(file, call.args[0], where, lookup_ok=True)
        if source is None:
            return None
        if len(call.args) > 2:
            self.scan.errors.append(f"{where}: plural forms (n) are not handled by this script")
            return None
        comment = self._comment(call.args[1] if len(call.args) > 1 else None, where)
        func = call.func
        if isinstance(func, ast.Attribute) and _is_self(func.value) and cls is not None:
            rewrite = not isinstance(call.args[0], ast.Constant)
            return self._found(file, call, where, [cls], source, comment, rewrite)
        translator = self._translator(file, func, fns)
        if translator is not None:
            return self._found(file, call, where, [translator], source, comment, True)
        contexts, how = self._tr_contexts(file, func, cls, fns)
        if not contexts:
            self.scan.errors.append(f"{where}: cannot tell which class's tr() says {source!r}")
            return None
        self._note(f"{file.path}: {how}")
        return self._found(file, call, where, sorted(contexts), source, comment, True)

    def _translator(self, file: _File, func: ast.expr, fns: Fns) -> str | None:
        """The context of a module translator function called by name (see _translators),
        defined in this file or imported from another; None when `tr` is something else."""
        if not isinstance(func, ast.Name) or any(
            func.id in [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]
            for fn in fns
        ):
            return None
        if func.id in file.translators:
            return file.translators[func.id]
        module, name = file.imports.get(func.id, ("", ""))
        return self.translators.get(module, {}).get(name)

    def _source(self, file: _File, node: ast.expr, where: str, lookup_ok: bool) -> str | None:
        if isinstance(node, ast.JoinedStr):
            self.scan.errors.append(
                f"{where}: f-string passed for translation (lupdate files the template, "
                "the running text never matches it)"
            )
            return None
        text = _str(node)
        if text is None and isinstance(node, ast.Name):
            text = file.constants.get(node.id)
        if text is None and not lookup_ok:
            self.scan.errors.append(f"{where}: the marked source text is not a literal")
        return text  # None: a lookup of a string marked elsewhere

    def _comment(self, node: ast.expr | None, where: str) -> str:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return ""
        text = _str(node)
        if text is None:
            self.scan.errors.append(f"{where}: the disambiguation is not a literal")
            return ""
        return text

    def _tr_contexts(
        self, file: _File, func: ast.expr, cls: str | None, fns: Fns
    ) -> tuple[set[str], str]:
        """The classes a `tr` that is not `self.tr` in a class belongs to, and how we know."""
        if isinstance(func, ast.Attribute):
            owner = _class_of(func.value, cls, fns)
            label = ast.unparse(func.value)
            return ({owner}, f"{label}.tr() outside {label}'s class") if owner else (set(), "")
        if not isinstance(func, ast.Name) or not fns:
            return set(), ""
        for fn in reversed(fns):  # tr = something.tr
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == func.id for t in node.targets)
                    and isinstance(node.value, ast.Attribute)
                    and node.value.attr == "tr"
                ):
                    owner = _class_of(node.value.value, cls, fns)
                    how = f"tr() through an alias in {fn.name}()"
                    return ({owner}, how) if owner else (set(), "")
        fn = fns[-1]
        arguments = fn.args
        positional = [a.arg for a in arguments.posonlyargs + arguments.args]
        if func.id not in positional + [a.arg for a in arguments.kwonlyargs]:
            return set(), ""
        if len(fns) > 1 or cls is not None or file.functions.get(fn.name) is not fn:
            return set(), ""  # a method's or nested function's parameter: not followed
        return self._from_callers(fn.name, func.id, positional)

    def _from_callers(
        self, function: str, parameter: str, positional: list[str]
    ) -> tuple[set[str], str]:
        """The classes whose `obj.tr` every caller of a module function passes as `tr`."""
        owners: set[str] = set()
        callers = 0
        for file in self.files:
            for call, cls, fns in file.calls:
                if not (isinstance(call.func, ast.Name) and call.func.id == function):
                    continue
                callers += 1
                index = positional.index(parameter) if parameter in positional else -1
                argument = next((k.value for k in call.keywords if k.arg == parameter), None)
                if argument is None and 0 <= index < len(call.args):
                    argument = call.args[index]
                owner = None
                if isinstance(argument, ast.Attribute) and argument.attr == "tr":
                    owner = _class_of(argument.value, cls, fns)
                if owner is None:
                    return set(), ""
                owners.add(owner)
        if not callers:
            return set(), ""
        how = f"tr() passed to {function}() by {callers} caller(s)"
        return owners, how

    def _found(
        self,
        file: _File,
        call: ast.Call,
        where: str,
        contexts: list[str],
        source: str,
        comment: str,
        rewrite: bool,
    ) -> Edit | None:
        for context in contexts:
            self.scan.messages.setdefault(Message(context, source, comment), []).append(where)
        if not rewrite:
            return None
        tail = [source, comment] if comment else [source]
        text = ", ".join(
            "QCoreApplication.translate("
            + ", ".join(json.dumps(part, ensure_ascii=False) for part in [c, *tail])
            + ")"
            for c in contexts
        )
        assert call.end_lineno is not None and call.end_col_offset is not None
        text += "\n" * (call.end_lineno - call.lineno)  # lupdate keeps the real line numbers
        start = _offset(file.data, call.lineno, call.col_offset)
        end = _offset(file.data, call.end_lineno, call.end_col_offset)
        return start, end, text.encode("utf-8")

    def _note(self, note: str) -> None:
        self.scan.notes.append(note)


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _class_of(node: ast.expr, cls: str | None, fns: Fns) -> str | None:
    """The class of `node` in `node.tr`: self in a class, or a local `node = Cls(…)`."""
    if _is_self(node):
        return cls
    if not isinstance(node, ast.Name):
        return None
    for fn in reversed(fns):  # the innermost binding (closures see their function's locals)
        owners = {
            assign.value.func.id
            for assign in ast.walk(fn)
            if isinstance(assign, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == node.id for t in assign.targets)
            and isinstance(assign.value, ast.Call)
            and isinstance(assign.value.func, ast.Name)
        }
        if owners:
            return owners.pop() if len(owners) == 1 else None
    return None


def _offset(data: bytes, line: int, column: int) -> int:
    """The byte offset of an ast position (1-based line, UTF-8 byte column)."""
    start = 0
    for _ in range(line - 1):
        start = data.index(b"\n", start) + 1
    return start + column


def _apply(data: bytes, edits: list[Edit]) -> bytes:
    out = data
    last = len(data) + 1
    for start, end, text in sorted(edits, reverse=True):
        assert end <= last, "overlapping rewrites"
        out = out[:start] + text + out[end:]
        last = start
    return out


def scan(root: Path = ROOT) -> Scan:
    """Read every source file: the messages with their contexts, and lupdate's copies."""
    return _Reader([_read(root, path) for path in sources(root)]).run()


# ---- the .ts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A message of a .ts file with its translation."""

    message: Message
    translation: str
    state: str  # "" (finished), "unfinished", "obsolete", "vanished"
    numerus: bool = False


def read_ts(data: bytes) -> list[Entry]:
    """The messages of a .ts file."""
    root = ET.fromstring(data)  # noqa: S314 - our own .ts, from the repository
    entries = []
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            node = message.find("translation")
            text = "" if node is None else (node.text or "")
            if node is not None and len(node):
                text = "\n".join(form.text or "" for form in node)
            entries.append(
                Entry(
                    Message(
                        name, message.findtext("source") or "", message.findtext("comment") or ""
                    ),
                    text,
                    "" if node is None else node.get("type", ""),
                    message.get("numerus") == "yes",
                )
            )
    return entries


def problems(entries: list[Entry], expected: set[Message]) -> list[str]:
    """What is wrong with a .ts against the sources' messages (empty: nothing)."""
    found: list[str] = []
    live = {e.message: e for e in entries if e.state not in ("obsolete", "vanished")}
    for message in sorted(expected - live.keys()):
        found.append(f"missing from the .ts: {message}")
    for message in sorted(live.keys() - expected):
        found.append(f"in the .ts but no longer in the sources: {message}")
    for entry in entries:
        message = entry.message
        if entry.state in ("obsolete", "vanished"):
            found.append(f"{entry.state} entry left in the .ts: {message}")
        elif entry.numerus:
            found.append(f"plural forms are not handled by this script: {message}")
        elif entry.state == "unfinished" or not entry.translation.strip():
            found.append(f"unfinished translation: {message}")
        else:
            found.extend(
                f"{message}: {issue}" for issue in _mismatches(message.source, entry.translation)
            )
    return found


def _mismatches(source: str, translation: str) -> list[str]:
    issues = []
    if collections.Counter(_PLACEHOLDER.findall(source)) != collections.Counter(
        _PLACEHOLDER.findall(translation)
    ):
        issues.append(f"placeholders differ in the translation {translation!r}")
    for side, strip in (("leading", str.lstrip), ("trailing", str.rstrip)):
        # A source glued on with a space needs one in English too (the reverse is fine:
        # "（轮巡）" is glued on without, " (on tour)" needs the space).
        if strip(source, _SPACE) != source and strip(translation, _SPACE) == translation:
            issues.append(f"{side} space lost in the translation {translation!r}")
    return issues


# ---- the tools -------------------------------------------------------------------------------


def tool(name: str) -> str:
    """A Qt tool of this Python's PySide6 (next to the interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found (install PySide6 into this environment)")
    return found


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(  # noqa: S603 - the Qt tools with our own arguments
        command, cwd=cwd, capture_output=True, text=True, check=False
    )
    output = (done.stdout + done.stderr).strip()
    if done.returncode:
        raise SystemExit(f"{Path(command[0]).name} failed ({done.returncode}):\n{output}")
    return output


def lupdate(found: Scan, ts: bytes | None) -> tuple[bytes, str]:
    """What lupdate makes of the sources (as scanned) merged into a .ts (None: a new one)."""
    ts_path = TS.relative_to(ROOT).as_posix()
    with tempfile.TemporaryDirectory(prefix="tongguan-i18n-") as temp:
        tree = Path(temp)
        for path, data in found.copies.items():  # the same layout: the same relative names
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_bytes(data)
        (tree / ts_path).parent.mkdir(parents=True, exist_ok=True)
        if ts is not None:
            (tree / ts_path).write_bytes(ts)
        command = [
            tool("pyside6-lupdate"),
            "-no-obsolete",
            "-locations",
            "absolute",
            "-source-language",
            SOURCE_LANGUAGE,
            "-target-language",
            TARGET_LANGUAGE,
            *found.copies,
            "-ts",
            ts_path,
        ]
        output = _run(command, tree)
        return (tree / ts_path).read_bytes(), output


def lrelease(ts: bytes) -> bytes:
    """The .qm lrelease compiles from a .ts (unfinished translations left out)."""
    with tempfile.TemporaryDirectory(prefix="tongguan-i18n-") as temp:
        folder = Path(temp)
        (folder / TS.name).write_bytes(ts)
        _run(
            [tool("pyside6-lrelease"), "-silent", "-nounfinished", TS.name, "-qm", QM.name],
            folder,
        )
        return (folder / QM.name).read_bytes()


def _agreement(found: Scan, fresh: bytes) -> list[str]:
    """Differences between lupdate's extraction and this script's reading (none expected)."""
    extracted = {e.message for e in read_ts(fresh) if e.state not in ("obsolete", "vanished")}
    expected = set(found.messages)
    return [f"lupdate found {m}, not read here" for m in sorted(extracted - expected)] + [
        f"lupdate missed {m} ({', '.join(found.messages[m])})" for m in sorted(expected - extracted)
    ]


# ---- the commands ----------------------------------------------------------------------------


def update(verbose: bool = False) -> int:
    """Extract into the .ts (keeping translations) and compile the .qm."""
    found = scan()
    _report_notes(found, verbose)
    if found.errors:
        _fail("cannot extract", found.errors)
        return 1
    before = TS.read_bytes() if TS.exists() else None
    fresh, output = lupdate(found, before)
    if verbose and output:
        print(output)
    disagreement = _agreement(found, fresh)
    if disagreement:
        _fail("lupdate and this script disagree", disagreement)
        return 1
    if fresh != before:
        TS.write_bytes(fresh)
    QM.write_bytes(lrelease(fresh))
    entries = read_ts(fresh)
    todo = [e for e in entries if e.state == "unfinished" or not e.translation.strip()]
    print(
        f"{TS.relative_to(ROOT)}: {len(entries)} messages"
        + (", updated" if fresh != before else ", unchanged")
        + f"; {QM.relative_to(ROOT)} compiled"
    )
    if todo:
        print(f"{len(todo)} to translate (left out of the .qm until finished):")
        for entry in todo:
            print(f"  {entry.message}")
    rest = problems(entries, set(found.messages))
    if rest:
        _fail("to fix in the .ts", [p for p in rest if not p.startswith("unfinished")])
    return 0


def check(verbose: bool = False) -> int:
    """Change nothing; 0 if the .ts and the .qm are complete and current."""
    found = scan()
    _report_notes(found, verbose)
    issues = list(found.errors)
    if not TS.exists():
        issues.append(f"{TS.relative_to(ROOT)} is missing")
    else:
        committed = TS.read_bytes()
        fresh, _ = lupdate(found, committed)
        issues += _agreement(found, fresh)
        issues += problems(read_ts(committed), set(found.messages))
        if not QM.exists():
            issues.append(f"{QM.relative_to(ROOT)} is missing")
        elif QM.read_bytes() != lrelease(committed):
            issues.append(f"{QM.relative_to(ROOT)} is not what lrelease makes of the .ts")
    if issues:
        _fail("translations out of date (python -m desktop.i18n.update, then translate)", issues)
        return 1
    print(f"translations ok: {len(found.messages)} messages, .ts and .qm current")
    return 0


def _report_notes(found: Scan, verbose: bool) -> None:
    counts = collections.Counter(found.notes)
    if verbose:
        for note, count in sorted(counts.items()):
            print(f"handed to lupdate as a literal context ({count}x): {note}")


def _fail(title: str, lines: list[str]) -> None:
    if lines:
        print(f"{title}:", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m desktop.i18n.update",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="store_true", help="verify only, change nothing")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    return check(args.verbose) if args.check else update(args.verbose)


if __name__ == "__main__":
    sys.exit(main())
