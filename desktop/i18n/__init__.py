"""The wall's translations: tongguan_en.ts (edited by hand) and tongguan_en.qm (compiled).

Regenerate both with `python -m desktop.i18n.update`; `--check` verifies them.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent


# Named as Qt names it: lupdate finds the marks by this name.
def QT_TRANSLATE_NOOP(context: str, source: str) -> str:
    """Mark `source` for lupdate under `context` and return it as is (PySide's says `object`)."""
    return source
