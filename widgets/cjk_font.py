"""Bold Chinese text that stays legible when the only CJK face has no real bold (e.g. WenQuanYi)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QFont, QFontDatabase, QRawFont

# Qt emboldens a regular face itself when no bold exists; above this size dense glyphs (量, 警)
# fill in, so large text stays regular and relies on its size for emphasis.
SYNTHETIC_BOLD_MAX_PX = 28


@lru_cache(maxsize=32)
def _real_bold(probe: str) -> bool:
    font = QFont()
    font.fromString(probe)
    raw = QRawFont.fromFont(font, QFontDatabase.WritingSystem.SimplifiedChinese)
    family = raw.familyName() if raw.isValid() else font.family()
    return any(
        QFontDatabase.weight(family, style) >= QFont.Weight.DemiBold.value
        for style in QFontDatabase.styles(family)
    )


def has_real_bold(font: QFont) -> bool:
    """Whether the face that draws Chinese in `font` has a genuine bold style."""
    probe = QFont(font)
    probe.setPixelSize(20)
    probe.setBold(True)
    return _real_bold(probe.toString())


def emphasised(font: QFont) -> QFont:
    """A bold copy of `font`, or a regular one if the bold would be synthetic and too large."""
    result = QFont(font)
    size = result.pixelSize() if result.pixelSize() > 0 else round(result.pointSizeF() * 4 / 3)
    result.setBold(size <= SYNTHETIC_BOLD_MAX_PX or has_real_bold(result))
    return result
