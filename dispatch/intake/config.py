"""Intake settings from a TOML file: a small registry of section readers, one per intake.

    [intake.http]      listen host/port of the intake HTTP server (this module)
    [intake.hotline]   12345 work orders (dispatch/intake/hotline.py)
    [intake.open311], [intake.mqtt] ...  added by their own modules with `@section`

Each reader gets its table and the directory of the file (relative paths are read from
there) and returns its own frozen settings object, or raises ConfigError with the key at fault.
A section whose module registered no reader is refused: a typo must not switch an intake off
silently.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
Reader = Callable[[dict[str, Any], Path], object]

_READERS: dict[str, Reader] = {}


class ConfigError(ValueError):
    """A configuration file that cannot be used, with the table and key at fault."""


def section(name: str) -> Callable[[Callable[[dict[str, Any], Path], T]], Callable[..., T]]:
    """Register the reader of the `[intake.<name>]` table (a decorator)."""

    def register(reader: Callable[[dict[str, Any], Path], T]) -> Callable[..., T]:
        _READERS[name] = reader
        return reader

    return register


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """The sections read from a file, by name; an absent section is None from `get`."""

    sections: dict[str, object] = field(default_factory=dict)
    path: Path | None = None

    def get(self, name: str, kind: type[T]) -> T | None:
        """The settings of `[intake.<name>]`, of type `kind`, or None when absent."""
        value = self.sections.get(name)
        if value is None:
            return None
        if not isinstance(value, kind):
            raise TypeError(f"[intake.{name}] read as {type(value).__name__}, not {kind.__name__}")
        return value


def load_config(path: Path) -> IntakeConfig:
    """Read `path` (TOML): every `[intake.*]` table through its registered reader."""
    _load_readers()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not TOML: {exc}") from None
    return read_config(data, path.parent, path)


def read_config(data: dict[str, Any], base: Path, path: Path | None = None) -> IntakeConfig:
    """The intake settings of an already parsed TOML document."""
    _load_readers()
    # [server]: the database URL and listen address (dispatch/cli.py reads it).
    unknown = sorted(set(data) - {"intake", "server"})
    if unknown:
        raise ConfigError(
            f"unknown top-level table(s): {', '.join(unknown)} (only [server], [intake.*])"
        )
    intake = data.get("intake", {})
    if not isinstance(intake, dict):
        raise ConfigError("intake: must be a table")
    sections: dict[str, object] = {}
    for name, table in intake.items():
        reader = _READERS.get(name)
        if reader is None:
            known = ", ".join(sorted(_READERS))
            raise ConfigError(f"[intake.{name}]: unknown section (known: {known})")
        if not isinstance(table, dict):
            raise ConfigError(f"[intake.{name}]: must be a table")
        sections[name] = reader(table, base)
    return IntakeConfig(sections, path)


def _load_readers() -> None:
    """Import every module of dispatch.intake: an intake's module registers its section
    reader (and its builder, service.py) when imported, so a new intake needs no line here."""
    import_intakes()


def import_intakes() -> None:
    """Import every module of the dispatch.intake package (once; cheap after the first)."""
    import importlib
    import pkgutil

    import dispatch.intake as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


# ---- helpers for section readers -----------------------------------------------------------


def take[V](
    table: dict[str, Any], where: str, key: str, kind: type[V], default: V | None = None
) -> V:
    """`table[key]` of type `kind` (int accepted for float), else `default`; ConfigError if
    absent without a default or of another type."""
    if key not in table:
        if default is None:
            raise ConfigError(f"[{where}] {key}: missing")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"[{where}] {key}: must be {kind.__name__}, not {value!r}")
    return value


def only(table: dict[str, Any], where: str, keys: set[str]) -> None:
    """Refuse keys a section does not know (a typo must not be ignored)."""
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ConfigError(f"[{where}] unknown key(s): {', '.join(unknown)}")


def secret(table: dict[str, Any], where: str, base: Path) -> bytes:
    """A key given inline (`key = "..."`) or in a file (`key_file = "path"`, relative to the
    config's directory) that only its owner may read (mode 600 or stricter)."""
    inline, file = table.get("key"), table.get("key_file")
    if (inline is None) == (file is None):
        raise ConfigError(f"[{where}] give exactly one of key, key_file")
    if inline is not None:
        if not isinstance(inline, str) or len(inline) < 16:
            raise ConfigError(f"[{where}] key: a string of at least 16 characters")
        return inline.encode()
    if not isinstance(file, str):
        raise ConfigError(f"[{where}] key_file: must be a path string")
    path = (base / file).expanduser()
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"[{where}] key_file {path}: {exc.strerror or exc}") from None
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(
            f"[{where}] key_file {path}: mode {stat.S_IMODE(info.st_mode):o} lets others read"
            " it; chmod 600"
        )
    if len(text) < 16:
        raise ConfigError(f"[{where}] key_file {path}: the key must be at least 16 characters")
    return text.encode()


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Where the intake HTTP server listens (port 0: any free port, logged and in the ready
    file) and its body limit."""

    host: str = "127.0.0.1"
    port: int = 8780
    max_body: int = 256 * 1024


@section("http")
def read_http(table: dict[str, Any], base: Path) -> HttpSettings:
    """[intake.http] host, port, max_body."""
    where = "intake.http"
    only(table, where, {"host", "port", "max_body"})
    port = take(table, where, "port", int, 8780)
    if not 0 <= port <= 65535:
        raise ConfigError(f"[{where}] port: 0..65535, not {port}")
    max_body = take(table, where, "max_body", int, 256 * 1024)
    if not 1024 <= max_body <= 16 * 2**20:
        raise ConfigError(f"[{where}] max_body: 1024..16777216 bytes, not {max_body}")
    return HttpSettings(take(table, where, "host", str, "127.0.0.1"), port, max_body)
