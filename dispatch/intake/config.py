"""Intake settings from a TOML file: a small registry of section readers, one per intake.

Each intake module registers the reader of its `[intake.<name>]` table with `@section`; the
reader gets the table and the file's directory and returns its own frozen settings, or
raises ConfigError naming the key at fault. A section nobody registered is refused: a typo
must not switch an intake off silently.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Reader = Callable[[dict[str, Any], Path], object]

_READERS: dict[str, Reader] = {}


class ConfigError(ValueError):
    """A configuration file that cannot be used, with the table and key at fault."""


def section[T](name: str) -> Callable[[Callable[[dict[str, Any], Path], T]], Callable[..., T]]:
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

    def get[T](self, name: str, kind: type[T]) -> T | None:
        """The settings of `[intake.<name>]`, of type `kind`, or None when absent."""
        value = self.sections.get(name)
        if value is None:
            return None
        if not isinstance(value, kind):
            raise TypeError(f"[intake.{name}] read as {type(value).__name__}, not {kind.__name__}")
        return value


def load_config(path: Path) -> IntakeConfig:
    """Read `path` (TOML): every `[intake.*]` table through its registered reader."""
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
    unknown = sorted(set(data) - {"intake"})
    if unknown:
        raise ConfigError(f"unknown top-level table(s): {', '.join(unknown)} (only [intake.*])")
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
    """Import the modules that register readers (their import registers them)."""
    from dispatch.intake.mqtt import settings as _mqtt  # noqa: F401


# ---- helpers for section readers -----------------------------------------------------------


def take[T](
    table: dict[str, Any], where: str, key: str, kind: type[T], default: T | None = None
) -> T:
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
