"""What both PyInstaller specs share: the project's data files and dynamically imported
modules. Run by PyInstaller (the specs exec it), not imported by the project."""

from __future__ import annotations

import sys
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

ROOT = Path(SPECPATH).resolve().parent  # noqa: F821 - SPECPATH is PyInstaller's
SKIP_SUFFIXES = {".py", ".pyc", ".ts"}  # .ts: the translators' source; the .qm ships
# Windows (packaging/README.md, "Windows": written for it, not tested here): the GUI program
# without a console window; PySide6's wheel there has no Qt/ level (PySide6/qml, …).
WINDOWS = sys.platform == "win32"


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

# Qt modules neither program imports: without these the folder would carry all of Qt
# (~700 MiB).
QT_UNUSED = [
    "PySide6.Qt3DAnimation",
    "PySide6.Qt3DCore",
    "PySide6.Qt3DExtras",
    "PySide6.Qt3DInput",
    "PySide6.Qt3DLogic",
    "PySide6.Qt3DRender",
    "PySide6.QtBluetooth",
    "PySide6.QtCharts",
    "PySide6.QtConcurrent",
    "PySide6.QtDataVisualization",
    "PySide6.QtDesigner",
    "PySide6.QtGraphs",
    "PySide6.QtGraphsWidgets",
    "PySide6.QtHelp",
    "PySide6.QtHttpServer",
    "PySide6.QtLocation",
    "PySide6.QtNfc",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuick3D",
    "PySide6.QtQuickControls2",
    "PySide6.QtQuickTest",
    "PySide6.QtQuickWidgets",
    "PySide6.QtRemoteObjects",
    "PySide6.QtScxml",
    "PySide6.QtSensors",
    "PySide6.QtSerialBus",
    "PySide6.QtSerialPort",
    "PySide6.QtSpatialAudio",
    "PySide6.QtSql",
    "PySide6.QtStateMachine",
    "PySide6.QtTextToSpeech",
    "PySide6.QtUiTools",
    "PySide6.QtWebEngineQuick",
    "PySide6.QtWebSockets",
    "PySide6.QtWebView",
    "PySide6.QtXml",
    "OpenGL",
]
_LOCALES = ("zh_CN", "zh-CN", "en", "en-US")


def qt_wanted(dest: str) -> bool:
    """Whether a file PyInstaller collected for Qt goes into the folder: no QML modules,
    translations for Chinese and English only (Qt's .qm, Chromium's locale .pak)."""
    path = dest.replace("\\", "/")
    if path.startswith("PySide6/") and not path.startswith("PySide6/Qt/"):
        path = "PySide6/Qt/" + path[len("PySide6/") :]  # Windows' layout as Linux's
    if path.startswith("PySide6/Qt/qml/"):
        return False
    if path.startswith("PySide6/Qt/translations/"):
        stem = path.rsplit("/", 1)[1].rsplit(".", 1)[0]
        if "/qtwebengine_locales/" in path:
            return stem in _LOCALES
        return stem.rsplit("_", 1)[-1] in _LOCALES or stem.endswith("_zh_CN")
    return True
