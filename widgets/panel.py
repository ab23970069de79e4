"""A titled panel for a wall: a title bar (with room for controls) over one content widget,
optionally a row of controls under the bar and a footer (a legend) under the content."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from widgets.fit_text import ElidedLabel


class Panel(QFrame):
    """Title on the left, optional controls on the right, the content below.

    The bar's height is fixed (`set_sizes`), the title shortens with "…" rather than push the
    controls, so what the panel shows never moves its parts.
    """

    def __init__(self, title: str, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.setSpacing(6)
        self.bar = QWidget(self)
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(8)
        self.title = ElidedLabel(title)
        self.title.setObjectName("panelTitle")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.count = QLabel("")
        self.count.setObjectName("panelCount")
        self.count.hide()  # until there is a count to show
        bar.addWidget(self.title, 1)
        bar.addWidget(self.count)
        self._bar = bar
        layout.addWidget(self.bar)
        self._rows = 1  # the bar; rows added under it come next
        layout.addWidget(content, 1)
        self.content = content
        self.footer: QWidget | None = None

    def add_control(self, widget: QWidget, stretch: int = 0) -> None:
        """Put a control (a filter, a button, a legend) in the title bar."""
        self._bar.addWidget(widget, stretch)

    def add_row(self, widget: QWidget) -> None:
        """A row under the title bar (a line of filters); its height is the bar's."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(self._rows, widget)
        self._rows += 1
        widget.setFixedHeight(self.bar.height() if self.bar.minimumHeight() else 30)

    def set_footer(self, widget: QWidget) -> None:
        """A line under the content (a legend)."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addWidget(widget)
        self.footer = widget

    def set_sizes(self, bar: int, margin: int, spacing: int) -> None:
        """The title bar's (and each added row's) height, the margins and the spacing."""
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.setContentsMargins(margin, round(margin * 0.6), margin, margin)
        layout.setSpacing(spacing)
        self._bar.setSpacing(spacing)
        for index in range(self._rows):
            item = layout.itemAt(index)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setFixedHeight(bar)

    def set_title(self, text: str) -> None:
        """Replace the title (shortened with "…" if it must be)."""
        self.title.set_full_text(text)

    def set_count(self, text: str) -> None:
        """A short figure next to the title (e.g. how many rows); empty hides it."""
        self.count.setText(text)
        self.count.setVisible(bool(text))
