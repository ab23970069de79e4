"""The desk's dark style: the wall's colours at arm's-length sizes (1080p desktop)."""

from __future__ import annotations

from desktop.ui.theme import ACCENT, BACKGROUND, BORDER, MUTED, PANEL, TEXT


def stylesheet() -> str:
    """The desk's style sheet."""
    return f"""
    QWidget#desk {{ background: {BACKGROUND}; color: {TEXT}; font-size: 15px; }}
    QDialog {{ background: {BACKGROUND}; color: {TEXT}; font-size: 15px; }}
    #deskTitle {{ font-size: 20px; font-weight: bold; color: #ffffff; padding-right: 12px; }}
    #deskWho {{ color: #ffd666; font-size: 15px; }}
    #deskClock {{ font-family: monospace; font-size: 16px; padding-left: 12px; }}
    #deskNotice {{ color: #ffb300; font-size: 15px; padding-right: 12px; }}
    #deskWaiting {{ color: #ffb300; font-size: 15px; padding-right: 12px; }}
    #deskLink[tone="good"] {{ color: #52c41a; }}
    #deskLink[tone="alarm"] {{ color: #ff4d4f; font-weight: bold; }}
    QTabBar::tab {{ background: #16325c; color: {MUTED}; padding: 6px 14px; font-size: 15px;
                    border: 1px solid {BORDER}; border-bottom: none; }}
    QTabBar::tab:selected {{ background: {PANEL}; color: #ffffff; border-color: {ACCENT}; }}
    QTableView, QListWidget {{ background: {PANEL}; alternate-background-color: #12284a;
                  color: {TEXT}; gridline-color: transparent; border: 1px solid {BORDER};
                  font-size: 15px; selection-background-color: #1d4f9a; }}
    QListWidget::item {{ padding: 4px; border-bottom: 1px solid #16325c; }}
    QListWidget::item:selected {{ background: #1d4f9a; color: #ffffff; }}
    QHeaderView::section {{ background: #16325c; color: {MUTED}; border: none; padding: 4px;
                            font-size: 14px; font-weight: bold; }}
    QLineEdit, QComboBox, QTextEdit, QPlainTextEdit, QDoubleSpinBox, QSpinBox,
    QDateTimeEdit {{ background: #0d1f38; color: {TEXT}; border: 1px solid {BORDER};
                     padding: 4px 6px; font-size: 15px; }}
    QComboBox QAbstractItemView {{ background: #16325c; color: {TEXT};
                                   selection-background-color: #1d4f9a; }}
    QPushButton {{ background: #16325c; color: {TEXT}; border: 1px solid {BORDER};
                   padding: 5px 12px; font-size: 15px; border-radius: 3px; }}
    QPushButton:disabled {{ color: #5a6b85; }}
    QCheckBox {{ color: {TEXT}; font-size: 15px; }}
    #sectionTitle {{ font-size: 16px; font-weight: bold; color: #ffffff;
                     border-left: 4px solid {ACCENT}; padding-left: 6px; }}
    #dutyLine, #alertDetails {{ font-size: 16px; }}
    #mutedLine {{ color: {MUTED}; }}
    #todoCount {{ color: {MUTED}; font-size: 15px; padding: 0px 6px; }}
    #formError, #casePaneNotice {{ color: #ff7875; font-size: 15px; }}
    QSplitter::handle {{ background: {BORDER}; width: 2px; }}
    QTabWidget::pane {{ border: 1px solid {BORDER}; top: -1px; }}
    """
