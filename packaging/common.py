"""What both PyInstaller specs share: the project's data files and dynamically imported
modules. Run by PyInstaller (the specs exec it), not imported by the project."""

from __future__ import annotations

from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

ROOT = Path(SPECPATH).resolve().parent  # noqa: F821 - SPECPATH is PyInstaller's
SKIP_SUFFIXES = {".py", ".pyc", ".ts"}  # .ts: the translators' source; the .qm ships


def package_data(*packages: str) -> list[tuple[str, str]]:
    """Every file of our packages that is not code, at its place beside the code (the
    code finds it from __file__ or importlib.resources)."""
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*")):
            if (
                path.is_file()
                and path.suffix not in SKIP_SUFFIXES
                and "__pycache__" not in path.parts
            ):
                found.append((str(path), str(path.parent.relative_to(ROOT))))
    return found


def backend_datas() -> list[tuple[str, str]]:
    """The backend's data: reference data and its migrations, which alembic reads as files."""
    migrations = [
        (str(path), str(path.parent.relative_to(ROOT)))
        for path in sorted((ROOT / "dispatch" / "migrations").rglob("*.py"))
    ]
    return [*package_data("resources", "dispatch", "protocol"), *migrations]


def backend_hiddenimports() -> list[str]:
    """Modules imported by name at run time: ours (intake readers, lazy imports), uvicorn's
    protocol and loop choices, alembic's op/context for the migration scripts, the drivers."""
    return [
        *collect_submodules("dispatch"),
        *collect_submodules("protocol"),
        *collect_submodules("uvicorn"),
        *collect_submodules("alembic", filter=lambda name: ".testing" not in name),
        *collect_submodules("sqlalchemy.dialects.sqlite"),
        *collect_submodules("sqlalchemy.dialects.postgresql"),
        *collect_submodules("psycopg"),
        "resources",
    ]


def desktop_datas() -> list[tuple[str, str]]:
    """The desktop's data: translations, icons, the map page, Leaflet from xstatic."""
    return [
        *package_data("desktop", "widgets"),
        *collect_data_files("xstatic.pkg.leaflet"),
        *collect_data_files("xstatic.pkg.leaflet_markercluster"),
    ]


# Never used by either program; some are pulled in by optional imports of libraries.
EXCLUDES = ["tkinter", "matplotlib", "IPython", "pytest", "hypothesis", "mypy", "PyQt5", "PyQt6"]
