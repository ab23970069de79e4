"""The wall's translations: tongguan_en.ts (edited by hand) and tongguan_en.qm (compiled).

Regenerate both with `python -m desktop.i18n.update`; `--check` verifies them.
"""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
