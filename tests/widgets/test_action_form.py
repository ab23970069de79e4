"""The action form checks every field before anything is sent and shows the sending states."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QDateTime, Qt
from PySide6.QtGui import QColor, QInputMethodEvent, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QWidget,
)

from widgets.action_form import ActionForm, FieldSpec
from widgets.fit_text import plain

UNITS = [("cg", "区城管局"), ("sw", "区水务局"), ("jt", "区交通运输局")]
DISPATCH = [
    FieldSpec("assignee", "主办单位", "choice", required=True, choices=UNITS),
    FieldSpec("assist", "协办单位", "multi", choices=UNITS),
    FieldSpec("note", "派遣意见", "note", placeholder="写给承办单位的要求"),
]


class Recorder:
    def __init__(self, form: ActionForm, window: QWidget) -> None:
        self.window = window  # qtbot holds widgets weakly: keep the window alive
        self.submitted: list[dict] = []
        self.cancelled = 0
        form.submitted.connect(self.submitted.append)
        form.cancelled.connect(self._cancel)

    def _cancel(self) -> None:
        self.cancelled += 1


def make(qtbot, fields: list[FieldSpec], submit: str = "派遣", hint: str = ""):
    window = QWidget()  # the form inside a desk window, as it is used
    qtbot.addWidget(window)
    form = ActionForm(window)
    form.set_action("派遣 TG-0031", fields, submit, hint)
    window.resize(460, 760)
    form.resize(460, 760)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    return form, Recorder(form, window)


def type_into(qtbot, widget: QWidget, text: str) -> None:
    """Type as an operator does: Chinese arrives committed by the input method."""
    widget.setFocus()
    if isinstance(widget, QLineEdit):
        widget.selectAll()
    if text.isascii():
        qtbot.keyClicks(widget, text)
    else:
        event = QInputMethodEvent()
        event.setCommitString(text)
        QApplication.sendEvent(widget, event)


def test_the_form_shows_its_action_in_chinese_and_focuses_the_first_field(qtbot) -> None:
    form, _window = make(qtbot, DISPATCH, hint="处置时限：明天 17:30")
    assert form.title.text() == "派遣 TG-0031" and form.hint.text() == "处置时限：明天 17:30"
    assert form.submit_button.text() == "派遣" and form.cancel_button.text() == "取消"
    labels = [plain(label.text()) for label in form.findChildren(QLabel, "fieldLabel")]
    assert labels == ["主办单位 *", "协办单位", "派遣意见"]
    assert isinstance(form.editor("assignee"), QComboBox)
    assert isinstance(form.editor("assist"), QListWidget)
    assert isinstance(form.editor("note"), QPlainTextEdit)
    assert QApplication.focusWidget() is form.editor("assignee")
    form.set_hint("处置时限：今天 18:00")
    assert form.hint.text() == "处置时限：今天 18:00"
    for label in form.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText


def test_tab_follows_the_fields_then_the_buttons(qtbot) -> None:
    form, _window = make(qtbot, DISPATCH)
    order = []
    widget = form.editor("assignee")
    for _ in range(5):
        order.append(widget)
        widget = widget.nextInFocusChain()
        while widget.focusPolicy() & Qt.FocusPolicy.TabFocus == 0:
            widget = widget.nextInFocusChain()
    expected = [form.editor(n) for n in ("assignee", "assist", "note")]
    assert order == [*expected, form.submit_button, form.cancel_button]
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is form.editor("assist")


def test_markup_in_titles_and_labels_is_shown_literally(qtbot) -> None:
    form, _window = make(
        qtbot, [FieldSpec("x", "<b>x</b>", "text", required=True)], hint="<i>h</i>"
    )
    form.set_action("<b>x</b>", [FieldSpec("x", "<b>x</b>", "text", True)], "提交", "<i>h</i>")
    assert form.title.text() == "<b>x</b>" and form.hint.text() == "<i>h</i>"
    assert form.findChildren(QLabel, "fieldLabel")[0].text() == "<b>x</b> *"
    form.submit()
    assert form.error_text("x") == "请填写<b>x</b>"


def test_a_required_empty_field_is_refused_with_a_message_and_focus(qtbot) -> None:
    form, record = make(qtbot, DISPATCH)
    form.editor("note").setFocus()
    QTest.keyClick(form.editor("note"), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert record.submitted == []
    assert form.error_text("assignee") == "请选择主办单位"
    assert form.error_text("assist") == "" and form.error_text("note") == ""
    assert QApplication.focusWidget() is form.editor("assignee")
    error = form.findChildren(QLabel, "fieldError")[0]
    assert error.isVisible()
    assert error.palette().color(error.foregroundRole()) == QColor("#ff7875")  # red
    assert form.editor("assignee").property("invalid") is True
    # Fixing the value takes the message away at once.
    form.editor("assignee").setCurrentIndex(1)
    assert form.error_text("assignee") == ""
    assert form.editor("assignee").property("invalid") is False


def test_valid_input_is_submitted_as_plain_values(qtbot) -> None:
    form, record = make(qtbot, DISPATCH)
    combo = form.editor("assignee")
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("sw"))
    assist = form.editor("assist")
    assert isinstance(assist, QListWidget)
    assist.item(2).setCheckState(Qt.CheckState.Checked)
    assist.setFocus()
    assist.setCurrentRow(0)
    QTest.keyClick(assist, Qt.Key.Key_Space)  # the keyboard ticks a unit
    assert assist.item(0).checkState() == Qt.CheckState.Checked
    type_into(qtbot, form.editor("note"), "  请今天下班前到场抽排。 ")
    QTest.keyClick(form.editor("note"), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert record.submitted == [
        {"assignee": "sw", "assist": ["cg", "jt"], "note": "请今天下班前到场抽排。"}
    ]


def test_every_kind_of_field_gives_its_value(qtbot) -> None:
    review = QDateTime.currentDateTime().addDays(3).toSecsSinceEpoch()
    fields = [
        FieldSpec("reason", "原因", "text", required=True),
        FieldSpec("hours", "延期时长", "hours", required=True),
        FieldSpec("review_at", "复核时间", "datetime", default=float(review)),
        FieldSpec("score", "满意度", "score", required=True, default=4),
        FieldSpec("passed", "核查通过", "bool", default=True),
        FieldSpec("kind", "类型", "choice", choices=[("a", "甲"), ("b", "乙")], default="b"),
        FieldSpec("units", "单位", "multi", choices=UNITS, default=["jt"]),
        FieldSpec("note", "备注", "note", default="原有备注"),
    ]
    form, record = make(qtbot, fields, "申请延期")
    type_into(qtbot, form.editor("reason"), "需等待配件到货")
    type_into(qtbot, form.editor("hours"), "36.5")
    QTest.keyClick(form.editor("hours"), Qt.Key.Key_Return)  # Enter in a one-line field
    assert record.submitted == [
        {
            "reason": "需等待配件到货",
            "hours": 36.5,
            "review_at": float(review - review % 60),  # shown to the minute
            "score": 4,
            "passed": True,
            "kind": "b",
            "units": ["jt"],
            "note": "原有备注",
        }
    ]
    assert isinstance(record.submitted[0]["score"], int)
    assert isinstance(form.editor("review_at"), QDateTimeEdit)
    assert isinstance(form.editor("passed"), QCheckBox)


def test_optional_empty_fields(qtbot) -> None:
    fields = [
        FieldSpec("t", "说明", "text"),
        FieldSpec("h", "时长", "hours"),
        FieldSpec("s", "评分", "score"),
        FieldSpec("c", "类型", "choice", choices=[("a", "甲")]),
        FieldSpec("m", "单位", "multi", choices=UNITS),
        FieldSpec("b", "通过", "bool"),
    ]
    form, record = make(qtbot, fields)
    form.submit()
    assert record.submitted == [{"t": "", "h": None, "s": None, "c": "", "m": [], "b": False}]


@pytest.mark.parametrize(
    ("spec", "typed", "message"),
    [
        (FieldSpec("r", "原因", "text", required=True), "   ", "请填写原因"),
        (FieldSpec("r", "原因", "text"), "长" * 201, "原因不能超过 200 字（现有 201 字）"),
        (
            FieldSpec("r", "原因", "text", max_length=10),
            "十一个字十一个字十一个",
            "原因不能超过 10 字",
        ),
        (FieldSpec("h", "时长", "hours", required=True), "", "请填写时长"),
        (FieldSpec("h", "时长", "hours"), "0.2", "时长须为 0.5 到 1440 之间的数"),
        (FieldSpec("h", "时长", "hours"), "1441", "时长须为 0.5 到 1440 之间的数"),
        (FieldSpec("h", "时长", "hours"), "两天", "时长须为 0.5 到 1440 之间的数"),
        (FieldSpec("h", "时长", "hours"), "nan", "时长须为 0.5 到 1440 之间的数"),
        (FieldSpec("h", "时长", "hours", maximum=48), "72", "时长须为 0.5 到 48 之间的数"),
        (FieldSpec("s", "满意度", "score"), "6", "满意度须为 1 到 5 之间的整数"),
        (FieldSpec("s", "满意度", "score"), "0", "满意度须为 1 到 5 之间的整数"),
        (FieldSpec("s", "满意度", "score"), "2.5", "满意度须为 1 到 5 之间的整数"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(qtbot, spec, typed, message) -> None:
    form, record = make(qtbot, [FieldSpec("first", "先填", "text", default="好"), spec])
    type_into(qtbot, form.editor(spec.name), typed)
    form.editor("first").setFocus()
    QTest.keyClick(form.editor("first"), Qt.Key.Key_Return)
    assert record.submitted == []
    assert form.error_text(spec.name).startswith(message)
    assert form.error_text("first") == ""
    assert QApplication.focusWidget() is form.editor(spec.name)
    assert plain(form.editor(spec.name).text()) == typed  # nothing typed is lost


def test_a_too_long_note_is_refused_and_the_counter_turns_red(qtbot) -> None:
    form, record = make(qtbot, [FieldSpec("note", "说明", "note", required=True)])
    note = form.editor("note")
    assert isinstance(note, QPlainTextEdit)
    text = "积" * 2001
    note.setPlainText(text)
    counter = form.findChildren(QLabel, "fieldCounter")[0]
    assert counter.text() == "2001/2000" and counter.property("over") is True
    QTest.keyClick(note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert record.submitted == []
    assert form.error_text("note") == "说明不能超过 2000 字（现有 2001 字）"
    assert note.toPlainText() == text
    note.moveCursor(QTextCursor.MoveOperation.End)
    QTest.keyClick(note, Qt.Key.Key_Backspace)
    assert form.error_text("note") == ""
    QTest.keyClick(note, Qt.Key.Key_Return)  # Enter in a note is a new line, not a submit
    assert record.submitted == [] and note.toPlainText().endswith("\n")
    QTest.keyClick(note, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert record.submitted == [{"note": "积" * 2000}]


def test_required_bool_and_datetime_bounds(qtbot) -> None:
    now = QDateTime.currentDateTime()
    low = now.addSecs(3600).toSecsSinceEpoch()
    high = now.addDays(366).toSecsSinceEpoch()
    fields = [
        FieldSpec("review_at", "复核时间", "datetime", minimum=low, maximum=high),
        FieldSpec("sure", "已与承办单位确认", "bool", required=True),
    ]
    form, record = make(qtbot, fields)
    when = form.editor("review_at")
    assert isinstance(when, QDateTimeEdit)
    when.setDateTime(now.addDays(-1))
    form.submit()
    assert record.submitted == []
    assert form.error_text("review_at").startswith("复核时间须不早于 ")
    assert form.error_text("sure") == "请勾选“已与承办单位确认”"
    when.setDateTime(now.addDays(400))
    form.submit()
    assert form.error_text("review_at").startswith("复核时间须不晚于 ")
    when.setDateTime(now.addDays(2))
    form.editor("sure").setChecked(True)
    form.submit()
    assert len(record.submitted) == 1 and record.submitted[0]["sure"] is True


def test_pending_refused_done_and_reset(qtbot) -> None:
    fields = [FieldSpec("reason", "原因", "text", required=True, default="")]
    form, record = make(qtbot, fields)
    type_into(qtbot, form.editor("reason"), "非本辖区事件")
    form.submit()
    assert len(record.submitted) == 1
    form.set_pending("正在提交…")
    assert form.state() == "pending"
    assert not form.editor("reason").isEnabled() and not form.submit_button.isEnabled()
    assert form.status.isVisible() and form.status.text() == "正在提交…"
    QTest.keyClick(form, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    form.submit()
    assert len(record.submitted) == 1  # nothing sent twice while waiting
    form.set_pending("待发送（连接中断，恢复后自动发送）")
    assert form.status.text() == "待发送（连接中断，恢复后自动发送）"

    form.set_refused("无权操作：该事件不在本街道辖区")
    assert form.state() == "refused"
    assert form.editor("reason").isEnabled() and form.submit_button.isEnabled()
    assert form.status.text() == "无权操作：该事件不在本街道辖区"
    assert form.status.palette().color(form.status.foregroundRole()) == QColor("#ff7875")
    assert plain(form.editor("reason").text()) == "非本辖区事件"  # kept to edit and resend
    assert QApplication.focusWidget() is form.editor("reason")
    QTest.keyClick(form.editor("reason"), Qt.Key.Key_Return)
    assert len(record.submitted) == 2

    form.set_done("已退回")
    assert form.status.text() == "已退回"
    assert form.status.palette().color(form.status.foregroundRole()) == QColor("#73d13d")
    assert not form.submit_button.isEnabled()
    form.submit()
    assert len(record.submitted) == 2

    form.reset()
    assert form.state() == "editing" and not form.status.isVisible()
    assert form.editor("reason").text() == "" and form.editor("reason").isEnabled()


def test_escape_cancels_from_any_field(qtbot) -> None:
    form, record = make(qtbot, DISPATCH)
    for name in ("assignee", "assist", "note"):
        form.editor(name).setFocus()
        QTest.keyClick(form.editor(name), Qt.Key.Key_Escape)
    assert record.cancelled == 3 and record.submitted == []
    form.cancel_button.setFocus()
    QTest.keyClick(form.cancel_button, Qt.Key.Key_Return)  # Enter on Cancel cancels
    assert record.cancelled == 4 and record.submitted == []


def test_field_edits_are_reported_for_a_live_hint(qtbot) -> None:
    form, _window = make(qtbot, [FieldSpec("hours", "延期时长", "hours", required=True)])
    seen: list[tuple[str, object]] = []
    form.fieldEdited.connect(lambda name, value: seen.append((name, value)))
    type_into(qtbot, form.editor("hours"), "24")
    assert seen[-1] == ("hours", 24.0)
    type_into(qtbot, form.editor("hours"), "9999")
    assert seen[-1] == ("hours", None)
    assert form.values() == {"hours": None}


def test_repeated_field_names_are_refused(qtbot) -> None:
    form = ActionForm()
    qtbot.addWidget(form)
    with pytest.raises(ValueError, match="repeat"):
        form.set_action("x", [FieldSpec("a", "甲"), FieldSpec("a", "乙")], "提交")


def test_a_hidden_form_focuses_its_first_field_when_shown(qtbot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    form = ActionForm(window)
    form.hide()
    window.show()
    qtbot.waitExposed(window)
    form.set_action("受理", [FieldSpec("note", "受理意见", "text")], "受理")
    form.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is form.editor("note"))
