"""The wall's dark theme, sized for the screen: readable from five metres at 1080p and 8K."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

# CJK-capable families in order of preference; the first installed one wins.
FONT_FAMILIES = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Sans Serif",
]

BACKGROUND = "#0b1a2e"
PANEL = "#0f213b"
BORDER = "#1f3b73"
TEXT = "#e8f1ff"
MUTED = "#8fb3e8"
ACCENT = "#5b8def"


def apply_palette(app: QApplication) -> None:
    """Dark palette and the CJK font for the whole application."""
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, BACKGROUND),
        (QPalette.ColorRole.WindowText, TEXT),
        (QPalette.ColorRole.Base, PANEL),
        (QPalette.ColorRole.AlternateBase, "#12284a"),
        (QPalette.ColorRole.Text, TEXT),
        (QPalette.ColorRole.Button, "#16325c"),
        (QPalette.ColorRole.ButtonText, TEXT),
        (QPalette.ColorRole.Highlight, "#1d4f9a"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, "#16325c"),
        (QPalette.ColorRole.ToolTipText, TEXT),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    app.setFont(font)


def stylesheet(scale: float) -> str:
    """The wall's style sheet with every size multiplied by `scale` (1.0 at 1920x1080)."""

    def px(value: float) -> int:
        return max(1, round(value * scale))

    return f"""
    QWidget#wall {{ background: {BACKGROUND}; color: {TEXT}; font-size: {px(16)}px; }}
    #wallHeader {{ background: qlineargradient(x1:0, y1:0, x2:0, y2:1, stop:0 #13305a,
                   stop:1 {BACKGROUND}); border-bottom: {px(2)}px solid {ACCENT}; }}
    #headerTitle {{ font-size: {px(30)}px; font-weight: bold; color: #ffffff;
                    letter-spacing: {px(2)}px; }}
    #headerScope {{ font-size: {px(24)}px; color: #ffd666; font-weight: bold; }}
    #headerFreshness {{ font-size: {px(18)}px; }}
    #headerNotice {{ font-size: {px(18)}px; color: #ffb300; }}
    #headerClock {{ font-size: {px(24)}px; color: {TEXT}; font-family: monospace; }}
    #muteButton {{ font-size: {px(16)}px; padding: {px(4)}px {px(12)}px; color: {TEXT};
                   background: #16325c; border: 1px solid {BORDER}; border-radius: {px(4)}px; }}
    #muteButton:checked {{ background: #5c1d1d; border-color: #ff4d4f; }}
    #outageBanner {{ background: #a8071a; color: #ffffff; font-size: {px(30)}px;
                     font-weight: bold; padding: {px(10)}px; border: {px(3)}px solid #ff7875; }}
    #outageBanner[calm="true"] {{ background: {PANEL}; color: {MUTED}; font-weight: normal;
                                  border: {px(1)}px solid {BORDER}; }}
    #keyHint {{ background: #16325c; color: #ffffff; font-size: {px(30)}px; font-weight: bold;
                padding: {px(24)}px {px(40)}px; border: {px(3)}px solid {ACCENT};
                border-radius: {px(8)}px; }}
    #panel {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: {px(6)}px; }}
    #panelTitle {{ font-size: {px(20)}px; font-weight: bold; color: #ffffff;
                   border-left: {px(4)}px solid {ACCENT}; padding-left: {px(8)}px; }}
    #panelCount {{ font-size: {px(18)}px; color: #ffd666; }}
    QTableView {{ background: {PANEL}; alternate-background-color: #12284a; color: {TEXT};
                  gridline-color: transparent; border: none; font-size: {px(17)}px;
                  selection-background-color: #1d4f9a; }}
    QHeaderView::section {{ background: #16325c; color: {MUTED}; border: none;
                            padding: {px(4)}px; font-size: {px(16)}px; font-weight: bold; }}
    QListView {{ background: {PANEL}; border: none; }}
    QComboBox {{ background: #16325c; color: {TEXT}; border: 1px solid {BORDER};
                 padding: {px(2)}px {px(8)}px; font-size: {px(15)}px;
                 min-width: {px(90)}px; }}
    QComboBox QAbstractItemView {{ background: #16325c; color: {TEXT};
                                   selection-background-color: #1d4f9a; }}
    #gridDetails {{ background: rgba(11, 26, 46, 235); border: {px(2)}px solid {ACCENT};
                    border-radius: {px(8)}px; }}
    #gridDetailsTitle {{ font-size: {px(20)}px; font-weight: bold; color: #ffffff; }}
    #gridDetailsPeople {{ font-size: {px(16)}px; color: {MUTED}; }}
    #gridDetailsEvents {{ font-size: {px(16)}px; color: {TEXT}; }}
    #gridDetailsClose {{ background: transparent; color: {MUTED}; border: none;
                         font-size: {px(22)}px; }}
    #emptyNote {{ font-size: {px(18)}px; color: {MUTED}; }}
    #legendItem {{ font-size: {px(15)}px; color: {MUTED}; }}
    QToolTip {{ font-size: {px(15)}px; }}
    """
