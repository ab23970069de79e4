"""A small form for one action on a case (accept, dispatch, ask for an extension…): fields from
plain specs, checked before anything is sent, and the states of sending it.

Keyboard first: the first field has the focus, Tab follows the fields, Enter in a one-line
field or Ctrl+Enter anywhere submits, Esc cancels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from PySide6.QtCore import QCoreApplication, QDateTime, QObject, Qt, QTime, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from widgets.fit_text import breakable, plain

FieldKind = Literal["text", "note", "choice", "multi", "hours", "datetime", "score", "bool"]
Value = str | float | int | bool | list[str] | None
TEXT_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
HOURS_RANGE = (0.5, 1440.0)
SCORE_RANGE = (1.0, 5.0)
DATETIME_FORMAT = "yyyy-MM-dd HH:mm"

STYLE = """
#actionForm { background: #0f213b; }
QLabel, QCheckBox { color: #e8f1ff; font-size: 14px; }
#formTitle { color: #ffffff; font-size: 16px; font-weight: bold; }
#formHint { color: #ffd666; font-size: 14px; }
#fieldLabel { color: #8fb3e8; }
#fieldError { color: #ff7875; font-size: 13px; }
#fieldCounter { color: #8fb3e8; font-size: 12px; }
#fieldCounter[over="true"] { color: #ff7875; }
#formStatus { font-size: 14px; color: #8fb3e8; }
#formStatus[state="pending"] { color: #ffb300; }
#formStatus[state="refused"] { color: #ff7875; }
#formStatus[state="done"] { color: #73d13d; }
QLineEdit, QPlainTextEdit, QComboBox, QDateTimeEdit, QListWidget {
    background: #0b1a2e; color: #e8f1ff; border: 1px solid #1f3b73; border-radius: 3px;
    font-size: 14px; padding: 3px 6px; selection-background-color: #1d4f9a; }
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus, QDateTimeEdit:focus,
QListWidget:focus { border-color: #5b8def; }
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QComboBox[invalid="true"],
QDateTimeEdit[invalid="true"], QListWidget[invalid="true"] { border-color: #ff4d4f; }
QLineEdit:disabled, QPlainTextEdit:disabled, QComboBox:disabled, QDateTimeEdit:disabled,
QListWidget:disabled, QCheckBox:disabled { color: #6b84a8; }
QListWidget::item { padding: 2px 0; }
QCheckBox::indicator, QListWidget::indicator { width: 14px; height: 14px;
    border: 1px solid #5b8def; border-radius: 2px; background: #0b1a2e; }
QCheckBox::indicator:checked, QListWidget::indicator:checked { background: #5b8def;
    border-color: #adc6ff; }
QCheckBox::indicator:disabled, QListWidget::indicator:disabled { border-color: #1f3b73; }
QComboBox QAbstractItemView { background: #16325c; color: #e8f1ff;
    selection-background-color: #1d4f9a; }
QPushButton { font-size: 14px; padding: 5px 16px; color: #e8f1ff; background: #16325c;
    border: 1px solid #1f3b73; border-radius: 4px; }
QPushButton:focus { border-color: #5b8def; }
QPushButton#formSubmit { background: #1d4f9a; border-color: #5b8def; font-weight: bold; }
QPushButton:disabled { color: #6b84a8; background: #122641; border-color: #1a3358; }
"""


def _tr(text: str) -> str:
    return QCoreApplication.translate("ActionForm", text)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an action form.

    `choices` are (value, label) pairs for "choice" and "multi"; `default` is a str for
    text/note/choice, a list of values for multi, a number for hours/score, epoch seconds for
    datetime (None: the next whole hour), a bool for bool. `max_length` None means 200 for
    text and 2000 for note. `minimum`/`maximum` None means 0.5–1440 for hours, 1–5 for score,
    no bound for datetime (epoch seconds). A required bool must be ticked.
    """

    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    default: str | float | bool | list[str] | None = None
    placeholder: str = ""
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None

    def length_limit(self) -> int:
        """The most characters a text or note may have."""
        if self.max_length is not None:
            return self.max_length
        return NOTE_MAX_LENGTH if self.kind == "note" else TEXT_MAX_LENGTH

    def bounds(self) -> tuple[float | None, float | None]:
        """The allowed range of a number or a time (None: unbounded on that side)."""
        low, high = {"hours": HOURS_RANGE, "score": SCORE_RANGE}.get(self.kind, (None, None))
        return (
            self.minimum if self.minimum is not None else low,
            self.maximum if self.maximum is not None else high,
        )


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _time_text(epoch: float) -> str:
    return QDateTime.fromSecsSinceEpoch(int(epoch)).toString(DATETIME_FORMAT)


def _next_hour() -> QDateTime:
    now = QDateTime.currentDateTime().addSecs(3600)
    return QDateTime(now.date(), QTime(now.time().hour(), 0))


class _Field(QObject):
    """One field's editor, label, error line (and character counter for notes)."""

    changed = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget) -> None:
        super().__init__(parent)
        self.spec = spec
        self.box = QWidget(parent)
        layout = QVBoxLayout(self.box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        marked = f"{spec.label} *" if spec.required else spec.label
        self.label: QLabel | None = None
        if spec.kind != "bool":
            self.label = QLabel(breakable(marked))
            self.label.setObjectName("fieldLabel")
            self.label.setTextFormat(Qt.TextFormat.PlainText)
            self.label.setWordWrap(True)
            layout.addWidget(self.label)
        self.editor = self._make_editor(marked)
        self.editor.setObjectName(f"field_{spec.name}")
        if self.label is not None:
            self.label.setBuddy(self.editor)
        layout.addWidget(self.editor)
        self.counter: QLabel | None = None
        if spec.kind == "note":
            self.counter = QLabel()
            self.counter.setObjectName("fieldCounter")
            self.counter.setTextFormat(Qt.TextFormat.PlainText)
            self.counter.setAlignment(Qt.AlignmentFlag.AlignRight)
            layout.addWidget(self.counter)
            self.changed.connect(self._count)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.restore()

    # -- editors --------------------------------------------------------------------------

    def _make_editor(self, marked: str) -> QWidget:
        spec = self.spec
        editor: QWidget
        if spec.kind == "note":
            note = QPlainTextEdit()
            note.setTabChangesFocus(True)
            note.setPlaceholderText(spec.placeholder)
            note.setFixedHeight(note.fontMetrics().lineSpacing() * 4 + 16)
            note.textChanged.connect(self.changed)
            editor = note
        elif spec.kind == "choice":
            combo = QComboBox()
            for value, label in spec.choices:
                combo.addItem(label, value)
            combo.setPlaceholderText(spec.placeholder or _tr("请选择"))
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.currentIndexChanged.connect(self.changed)
            editor = combo
        elif spec.kind == "multi":
            items = QListWidget()
            for value, label in spec.choices:
                item = QListWidgetItem(label)
                item.setData(Qt.ItemDataRole.UserRole, value)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                items.addItem(item)
            rows = max(1, min(6, len(spec.choices)))  # more scroll
            # 14 px text (the style sheet is not applied yet) plus the item's padding.
            row_height = max(items.fontMetrics().height(), 19) + 6
            items.setFixedHeight(rows * row_height + 10)
            items.itemChanged.connect(self.changed)
            editor = items
        elif spec.kind == "datetime":
            when = QDateTimeEdit()
            when.setCalendarPopup(True)
            when.setDisplayFormat(DATETIME_FORMAT)
            when.dateTimeChanged.connect(self.changed)
            editor = when
        elif spec.kind == "bool":
            check = QCheckBox(marked)
            check.toggled.connect(self.changed)
            editor = check
        else:  # text, hours, score: one line
            line = QLineEdit()
            low, high = spec.bounds()
            if spec.placeholder:
                line.setPlaceholderText(spec.placeholder)
            elif spec.kind == "hours":
                line.setPlaceholderText(
                    _tr("小时数，%s–%s") % (_number_text(low or 0), _number_text(high or 0))
                )
            elif spec.kind == "score":
                line.setPlaceholderText(
                    _tr("%s–%s 分") % (_number_text(low or 0), _number_text(high or 0))
                )
            line.textChanged.connect(self.changed)
            editor = line
        return editor

    def restore(self) -> None:
        """Put the default back."""
        spec, editor, default = self.spec, self.editor, self.spec.default
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(str(default) if default is not None else "")
        elif isinstance(editor, QComboBox):
            editor.setCurrentIndex(editor.findData(default) if default is not None else -1)
        elif isinstance(editor, QListWidget):
            chosen = set(default) if isinstance(default, list) else set()
            for row in range(editor.count()):
                item = editor.item(row)
                on = item.data(Qt.ItemDataRole.UserRole) in chosen
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        elif isinstance(editor, QDateTimeEdit):
            if isinstance(default, int | float) and not isinstance(default, bool):
                editor.setDateTime(QDateTime.fromSecsSinceEpoch(int(default)))
            else:
                editor.setDateTime(_next_hour())
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(default))
        elif isinstance(editor, QLineEdit):
            if default is None or isinstance(default, list):
                editor.setText("")
            elif spec.kind in ("hours", "score") and isinstance(default, int | float):
                editor.setText(_number_text(float(default)))
            else:
                editor.setText(str(default))
        self.show_error("")
        self._count()

    def focus(self) -> None:
        """Put the keyboard focus on the editor (selecting a one-line field's text)."""
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(self.editor, QLineEdit):
            self.editor.selectAll()

    # -- values ---------------------------------------------------------------------------

    def raw(self) -> str | list[str] | float | bool:
        """What the editor holds now, unchecked (text as typed, numbers as text)."""
        editor = self.editor
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText().strip()
        if isinstance(editor, QComboBox):
            data = editor.currentData() if editor.currentIndex() >= 0 else None
            return "" if data is None else str(data)
        if isinstance(editor, QListWidget):
            return [
                str(editor.item(row).data(Qt.ItemDataRole.UserRole))
                for row in range(editor.count())
                if editor.item(row).checkState() == Qt.CheckState.Checked
            ]
        if isinstance(editor, QDateTimeEdit):
            seconds = editor.dateTime().toSecsSinceEpoch()
            return float(seconds - seconds % 60)  # what is shown: to the minute
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        assert isinstance(editor, QLineEdit)
        return editor.text().strip()

    def value(self) -> Value:
        """The value as submitted, or None when it is empty or not valid."""
        value, problem = self.checked()
        return None if problem else value

    def checked(self) -> tuple[Value, str]:
        """The value as submitted and what is wrong with it ("" when nothing)."""
        spec, raw = self.spec, self.raw()
        label = spec.label
        if spec.kind in ("text", "note"):
            assert isinstance(raw, str)
            if not raw:
                return raw, _tr("请填写%s") % label if spec.required else ""
            limit = spec.length_limit()
            if len(raw) > limit:
                return raw, _tr("%s不能超过 %s 字（现有 %s 字）") % (label, limit, len(raw))
            return raw, ""
        if spec.kind == "choice":
            if not raw and spec.required:
                return raw, _tr("请选择%s") % label
            return raw, ""
        if spec.kind == "multi":
            if not raw and spec.required:
                return raw, _tr("请至少选择一项%s") % label
            return raw, ""
        if spec.kind == "bool":
            if spec.required and raw is not True:
                return raw, _tr("请勾选“%s”") % label
            return raw, ""
        low, high = spec.bounds()
        if spec.kind == "datetime":
            assert isinstance(raw, float)
            if low is not None and raw < low:
                return raw, _tr("%s须不早于 %s") % (label, _time_text(low))
            if high is not None and raw > high:
                return raw, _tr("%s须不晚于 %s") % (label, _time_text(high))
            return raw, ""
        # hours, score: typed as text
        assert isinstance(raw, str)
        if not raw:
            return None, _tr("请填写%s") % label if spec.required else ""
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        whole = spec.kind == "score"
        in_range = (
            math.isfinite(number)
            and (low is None or number >= low)
            and (high is None or number <= high)
            and (not whole or number.is_integer())
        )
        if not in_range:
            low_text = _number_text(low) if low is not None else "−∞"
            high_text = _number_text(high) if high is not None else "∞"
            if whole:
                message = _tr("%s须为 %s 到 %s 之间的整数") % (label, low_text, high_text)
            else:
                message = _tr("%s须为 %s 到 %s 之间的数") % (label, low_text, high_text)
            return None, message
        return (int(number) if whole else number), ""

    def show_error(self, message: str) -> None:
        """Show (or clear, with "") the red line under the field."""
        self.error.setText(message)
        self.error.setVisible(bool(message))
        invalid = bool(message)
        if bool(self.editor.property("invalid")) != invalid:
            self.editor.setProperty("invalid", invalid)
            self.editor.style().unpolish(self.editor)
            self.editor.style().polish(self.editor)

    def _count(self) -> None:
        if self.counter is None:
            return
        length, limit = len(self.raw()), self.spec.length_limit()  # type: ignore[arg-type]
        self.counter.setText(f"{length}/{limit}")
        over = length > limit
        if bool(self.counter.property("over")) != over:
            self.counter.setProperty("over", over)
            self.counter.style().unpolish(self.counter)
            self.counter.style().polish(self.counter)


class ActionForm(QFrame):
    """Fields for one action and a submit button; `submitted(dict)` only with valid values.

    Values by kind: text/note/choice str (stripped; "" when empty), multi list[str] (in the
    order of the choices), hours float, score int, datetime float epoch seconds, bool bool;
    an empty optional hours/score is None.
    """

    submitted = Signal(dict)
    cancelled = Signal()
    fieldEdited = Signal(str, object)  # a field's name and its value now (None: empty/invalid)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("actionForm")
        self.setStyleSheet(STYLE)
        self._fields: list[_Field] = []
        self._state = "editing"  # editing, pending, refused, done
        self._focus_on_show = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(8)
        self.title = self._line("formTitle")
        self.hint = self._line("formHint")
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        self._field_layout = QVBoxLayout()
        self._field_layout.setSpacing(8)
        layout.addLayout(self._field_layout)
        self.status = self._line("formStatus")
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("取消"))
        self.cancel_button.setObjectName("formCancel")
        self.cancel_button.setToolTip(self.tr("取消（Esc）"))
        self.cancel_button.setAutoDefault(True)  # Enter on a focused button presses it
        self.cancel_button.clicked.connect(self.cancel)
        self.submit_button = QPushButton()
        self.submit_button.setObjectName("formSubmit")
        self.submit_button.setAutoDefault(True)
        self.submit_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.submit_button)
        layout.addLayout(buttons)
        layout.addStretch(1)

        # Ctrl+Enter must work inside a note too, which takes plain Enter for a new line.
        self._shortcuts: list[QShortcut] = []
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.submit)
            self._shortcuts.append(shortcut)
        self.set_action("", [], self.tr("提交"))

    @staticmethod
    def _line(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.hide()
        return label

    # -- public ---------------------------------------------------------------------------

    def set_action(
        self, title: str, fields: list[FieldSpec], submit_label: str, hint: str = ""
    ) -> None:
        """Show the form for one action (replacing any other) and focus its first field."""
        names = [spec.name for spec in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"field names repeat: {names}")
        for old in self._fields:
            self._field_layout.removeWidget(old.box)
            old.box.hide()
            old.box.deleteLater()
            old.deleteLater()
        self._fields = []
        self._set_label(self.title, title)
        self.set_hint(hint)
        self.submit_button.setText(submit_label)
        self.submit_button.setToolTip(self.tr("%s（Ctrl+Enter）") % submit_label)
        for spec in fields:
            item = _Field(spec, self)
            item.changed.connect(lambda item=item: self._edited(item))
            self._field_layout.addWidget(item.box)
            self._fields.append(item)
        previous: QWidget | None = None
        for widget in [*(f.editor for f in self._fields), self.submit_button, self.cancel_button]:
            if previous is not None:
                QWidget.setTabOrder(previous, widget)
            previous = widget
        self._enter("editing", "")
        self.focus_first()

    def set_hint(self, text: str) -> None:
        """The line under the title (e.g. the deadline the action would set)."""
        self._set_label(self.hint, text)

    def set_pending(self, text: str) -> None:
        """Sent and waiting: the fields and the submit button are disabled, `text` says why."""
        self._enter("pending", text)

    def set_refused(self, text: str) -> None:
        """The server said no: `text` in red, the form editable again."""
        self._enter("refused", text)
        self.focus_first()

    def set_done(self, text: str) -> None:
        """Done: `text` in green; the form stays disabled until `reset` or `set_action`."""
        self._enter("done", text)

    def reset(self) -> None:
        """Defaults back, messages cleared, editable, first field focused."""
        for item in self._fields:
            item.restore()
        self._enter("editing", "")
        self.focus_first()

    def message_text(self) -> str:
        """The status line as shown (pending, refused or done), "" when none."""
        return plain(self.status.text())

    def state(self) -> str:
        """ "editing", "pending", "refused" or "done"."""
        return self._state

    def field_names(self) -> list[str]:
        """The fields' names in order."""
        return [item.spec.name for item in self._fields]

    def editor(self, name: str) -> QWidget:
        """The editor of field `name` (QLineEdit, QPlainTextEdit, QComboBox, QListWidget,
        QDateTimeEdit or QCheckBox)."""
        return self._field(name).editor

    def error_text(self, name: str) -> str:
        """The message under field `name` ("" when none is shown)."""
        item = self._field(name)
        return item.error.text() if not item.error.isHidden() else ""

    def value(self, name: str) -> Value:
        """Field `name`'s value now, or None when it is empty or not valid."""
        return self._field(name).value()

    def values(self) -> dict[str, Value]:
        """Every field's value as it would be submitted (None where not valid)."""
        return {item.spec.name: item.value() for item in self._fields}

    def focus_first(self) -> None:
        """Focus the first field (or the submit button when there is none); a form not on
        screen does so when it appears."""
        self._focus_on_show = not self.isVisible()
        if self._focus_on_show:
            # Not now: a hidden form (a page not shown) would take the keyboard from the
            # page that is, where its keys would then do nothing.
            return
        if self._fields:
            self._fields[0].focus()
        else:
            self.submit_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        """Check every field; emit `submitted` with the values only if all are valid."""
        if self._state in ("pending", "done") or not self.submit_button.isEnabled():
            return
        values: dict[str, Value] = {}
        first_bad: _Field | None = None
        for item in self._fields:
            value, problem = item.checked()
            item.show_error(problem)
            if problem and first_bad is None:
                first_bad = item
            values[item.spec.name] = value
        if first_bad is not None:
            first_bad.focus()
            return
        self.submitted.emit(values)

    def cancel(self) -> None:
        """Emit `cancelled`."""
        self.cancelled.emit()

    # -- events ---------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter that no field took (one-line fields pass it on) submits; Esc cancels."""
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.submit()
            event.accept()
            return
        if key == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.cancel()
            event.accept()
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        """A form filled while hidden focuses its first field when it appears."""
        super().showEvent(event)
        if self._focus_on_show:
            self.focus_first()

    # -- internals ------------------------------------------------------------------------

    def _field(self, name: str) -> _Field:
        for item in self._fields:
            if item.spec.name == name:
                return item
        raise KeyError(name)

    def _edited(self, item: _Field) -> None:
        if not item.error.isHidden():
            _value, problem = item.checked()
            if not problem:  # fixed: the red line goes as soon as the value is right
                item.show_error("")
        self.fieldEdited.emit(item.spec.name, item.value())

    def _enter(self, state: str, text: str) -> None:
        self._state = state
        editable = state in ("editing", "refused")
        for item in self._fields:
            item.editor.setEnabled(editable)
        self.submit_button.setEnabled(editable)
        self._set_label(self.status, text)
        if self.status.property("state") != state:
            self.status.setProperty("state", state)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)

    @staticmethod
    def _set_label(label: QLabel, text: str) -> None:
        label.setText(breakable(text))
        label.setVisible(bool(text))
