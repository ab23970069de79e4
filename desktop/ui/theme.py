"""The wall's dark theme, sized for the screen: readable from five metres at 1080p and 8K."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette
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


ARROW = (Path(__file__).parent / "down_arrow.svg").as_posix()  # a filter's drop-down mark
READING_DISTANCE = 60  # the smallest cap height on the wall: 1/60 of the screen's height


def readable_px(screen_height: int, font: QFont | None = None) -> int:
    """The smallest pixel size of `font` (the application's) whose capital letters are at
    least 1/60 of the screen's height tall: read from 5 m on a 65" panel."""
    # Measured on the font itself: its list of families decides which face draws (a copy
    # through QFont.toString() would keep the first family only).
    probe = QFont(font) if font is not None else QApplication.font()
    target = max(1, screen_height) / READING_DISTANCE
    pixels = max(4, int(target))
    while True:
        probe.setPixelSize(pixels)
        if QFontMetricsF(probe).capHeight() >= target:
            return pixels
        pixels += 1


@dataclass(frozen=True, slots=True)
class Sizes:
    """The wall's sizes for a screen: every text at least `text` pixels (readable at 5 m),
    headings larger, spacing in `unit`s (1.0 at 1080 lines)."""

    text: int
    unit: float

    @classmethod
    def for_screen(cls, width: int, height: int) -> Sizes:
        """Sizes for a window of this many pixels."""
        return cls(readable_px(height), max(0.5, min(width / 1920, height / 1080)))

    @property
    def heading(self) -> int:
        """Panel titles."""
        return round(self.text * 1.08)

    @property
    def title(self) -> int:
        """The header's title."""
        return round(self.text * 1.15)

    @property
    def bar(self) -> int:
        """The height of a panel's title bar (and of a row of filters)."""
        return round(self.heading * 1.5)

    @property
    def row(self) -> int:
        """The least height of a list row."""
        return round(self.text * 1.45)

    def px(self, value: float) -> int:
        """A spacing of `value` pixels at 1080 lines."""
        return max(1, round(value * self.unit))


def stylesheet(sizes: Sizes) -> str:
    """The wall's style sheet: every text at least `sizes.text` pixels, spacing by unit."""
    px = sizes.px
    text = sizes.text

    return f"""
    QWidget#wall {{ background: {BACKGROUND}; color: {TEXT}; font-size: {text}px; }}
    #wallHeader {{ background: qlineargradient(x1:0, y1:0, x2:0, y2:1, stop:0 #13305a,
                   stop:1 {BACKGROUND}); border-bottom: {px(2)}px solid {ACCENT}; }}
    #headerTitle {{ font-size: {sizes.title}px; font-weight: bold; color: #ffffff;
                    letter-spacing: {px(2)}px; }}
    #headerScope {{ font-size: {sizes.heading}px; color: #ffd666; font-weight: bold; }}
    #headerFreshness {{ font-size: {text}px; }}
    #headerNotice {{ font-size: {text}px; color: #ffb300; }}
    #headerClock {{ font-size: {sizes.heading}px; color: {TEXT}; }}
    #muteButton {{ font-size: {text}px; padding: {px(2)}px {px(8)}px; color: {TEXT};
                   background: #16325c; border: 1px solid {BORDER}; border-radius: {px(4)}px; }}
    #muteButton:checked {{ background: #5c1d1d; border-color: #ff4d4f; }}
    #outageBanner {{ background: #a8071a; color: #ffffff; font-size: {sizes.heading}px;
                     font-weight: bold; padding: 0px {px(10)}px; border: {px(3)}px solid #ff7875; }}
    #outageBanner[calm="true"] {{ background: {PANEL}; color: {MUTED}; font-weight: normal;
                                  border: {px(1)}px solid {BORDER}; }}
    #keyHint {{ background: #16325c; color: #ffffff; font-size: {sizes.heading}px;
                font-weight: bold; padding: {px(24)}px {px(40)}px; border: {px(3)}px solid {ACCENT};
                border-radius: {px(8)}px; }}
    #panel {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: {px(6)}px; }}
    #panelTitle {{ font-size: {sizes.heading}px; font-weight: bold; color: #ffffff;
                   border-left: {px(4)}px solid {ACCENT}; padding-left: {px(8)}px; }}
    #panelCount {{ font-size: {sizes.heading}px; color: #ffd666; }}
    #tourHint {{ font-size: {text}px; color: #ffd666; }}
    QTableView {{ background: {PANEL}; alternate-background-color: #12284a; color: {TEXT};
                  gridline-color: transparent; border: none; font-size: {text}px;
                  selection-background-color: #1d4f9a; }}
    QHeaderView {{ font-size: {text}px; font-weight: bold; }}
    QHeaderView::section {{ background: #16325c; color: {MUTED}; border: none;
                            padding: 0px {px(4)}px; font-size: {text}px; font-weight: bold; }}
    QListView {{ background: {PANEL}; border: none; }}
    QComboBox {{ background: #16325c; color: {TEXT}; border: 1px solid {BORDER};
                 padding: 0px {px(6)}px; font-size: {text}px; }}
    QComboBox::drop-down {{ border: none; width: {round(text * 0.9)}px; }}
    QComboBox::down-arrow {{ image: url({ARROW}); width: {round(text * 0.7)}px;
                             height: {round(text * 0.7)}px; }}
    QComboBox QAbstractItemView {{ background: #16325c; color: {TEXT}; font-size: {text}px;
                                   selection-background-color: #1d4f9a; }}
    #gridDetails {{ background: rgba(11, 26, 46, 235); border: {px(2)}px solid {ACCENT};
                    border-radius: {px(8)}px; }}
    #gridDetailsTitle {{ font-size: {sizes.heading}px; font-weight: bold; color: #ffffff; }}
    #gridDetailsPeople {{ font-size: {text}px; color: {MUTED}; }}
    #gridDetailsEvents {{ font-size: {text}px; color: {TEXT}; }}
    #gridDetailsClose {{ background: transparent; color: {MUTED}; border: none;
                         font-size: {sizes.title}px; }}
    #emptyNote {{ font-size: {text}px; color: {MUTED}; }}
    #syncCover {{ background: {PANEL}; color: {MUTED}; font-size: {text}px; }}
    #mapNote {{ background: rgba(11, 26, 46, 220); color: {MUTED}; font-size: {text}px;
                padding: {px(6)}px {px(16)}px; border: 1px solid {BORDER};
                border-radius: {px(6)}px; }}
    QToolTip {{ font-size: {text}px; }}
    """
