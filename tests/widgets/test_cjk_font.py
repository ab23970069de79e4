"""Bold is only synthesised for Chinese text small enough to stay legible."""

from __future__ import annotations

from PySide6.QtGui import QFont

from widgets.cjk_font import SYNTHETIC_BOLD_MAX_PX, emphasised, has_real_bold


def test_emphasis_avoids_large_synthetic_bold(qapp) -> None:
    small, large = QFont(), QFont()
    small.setPixelSize(SYNTHETIC_BOLD_MAX_PX)
    large.setPixelSize(SYNTHETIC_BOLD_MAX_PX * 2)
    assert emphasised(small).bold()
    assert emphasised(large).bold() == has_real_bold(large)
    assert emphasised(large).pixelSize() == SYNTHETIC_BOLD_MAX_PX * 2
    assert not large.bold()  # the argument is left alone
