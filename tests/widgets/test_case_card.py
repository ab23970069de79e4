"""The case card shows plain data as plain text, never overflows, and updates in place."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QLabel

from widgets.case_card import CaseCard, CaseView, TimelineEntry, TimelineRow
from widgets.fit_text import plain

VIEW = CaseView(
    code="TG-20261122-0031",
    title="小区地下车库长期积水",
    status_text="已派遣",
    tone="warn",
    fields=[
        ("类别", "市政设施·积水"),
        ("地点", "德宽路街道龙山路 88 号"),
        ("网格", "德宽路第三网格"),
        ("来源", "12345 热线"),
        ("报告人", "刘女士 13905621234"),
        ("主办", "区城管局"),
        ("时限", "2026-11-23 17:30"),
    ],
    description="车库积水已有三天，约二十厘米深，电梯井进水，居民车辆无法进出。",
    countdown_text="剩 2小时15分",
    flags=["督办", "会商"],
)


def entries(n: int, start: int = 0) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            f"11-22 {8 + i // 60:02d}:{i % 60:02d}",
            "张晓燕",
            "派遣",
            "已派遣",
            f"第 {i} 条：请区城管局到现场抽排积水，并查明原因。",
        )
        for i in range(start, start + n)
    ]


def make(qtbot, width: int = 480, height: int = 760) -> CaseCard:
    card = CaseCard()
    qtbot.addWidget(card)
    card.resize(width, height)
    card.show()
    qtbot.waitExposed(card)
    return card


def texts(card: CaseCard) -> list[str]:
    return [plain(label.text()) for label in card.findChildren(QLabel) if label.isVisibleTo(card)]


def at_bottom(card: CaseCard) -> bool:
    bar = card.timeline.verticalScrollBar()
    return bar.maximum() > 0 and bar.value() == bar.maximum()


def test_placeholder_until_a_case_is_chosen(qtbot) -> None:
    card = make(qtbot)
    assert card.placeholder.isVisible() and card.placeholder.text() == "选择一个案件"
    assert not card.body.isVisible() and card.view() is None
    card.show_case(VIEW)
    assert card.body.isVisible() and not card.placeholder.isVisible()
    card.show_case(None)
    assert card.placeholder.isVisible() and not card.body.isVisible()
    assert card.timeline_entries() is None


def test_a_case_is_shown_in_chinese_with_its_tone_and_badges(qtbot) -> None:
    card = make(qtbot)
    card.show_case(VIEW)
    shown = texts(card)
    for text in (
        "TG-20261122-0031",
        "已派遣",
        "剩 2小时15分",
        "小区地下车库长期积水",
        VIEW.description,
    ):
        assert text in shown
    for label, value in VIEW.fields:
        assert label in shown and value in shown
    flags = [b.full_text() for b in card.findChildren(QLabel, "caseFlag") if b.isVisibleTo(card)]
    assert flags == ["督办", "会商"]
    assert card.status.property("tone") == "warn" and card.countdown.property("tone") == "warn"
    # The tone is drawn: the style sheet's amber reaches the badge's palette.
    assert card.status.palette().color(card.status.foregroundRole()) == QColor("#ffb300")
    assert card.description.wordWrap()
    assert not card.photo.isVisible()
    assert "正在载入处理记录…" in shown  # the record is asked for separately


def test_data_is_plain_text_never_html(qtbot) -> None:
    card = make(qtbot)
    card.show_case(
        CaseView(
            "<i>c</i>",
            "<b>x</b>",
            "<font color=red>s</font>",
            fields=[("<u>l</u>", "<a href='x'>v</a>")],
            description="<h1>d</h1>",
            flags=["<b>f</b>"],
        )
    )
    card.set_timeline([TimelineEntry("<b>t</b>", "<b>a</b>", "act", "", "<script>z</script>")])
    for label in card.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    assert card.title.text() == "<b>x</b>"
    assert card.code.full_text() == "<i>c</i>"
    shown = texts(card)
    for text in ("<font color=red>s</font>", "<u>l</u>", "<a href='x'>v</a>", "<h1>d</h1>"):
        assert text in shown
    row = card._rows[0]
    assert row.text.text() == "<script>z</script>" and row.time.full_text() == "<b>t</b>"
    assert row.head.text() == "<b>a</b>  act"


def test_long_texts_wrap_or_elide_and_never_widen_the_card(qtbot) -> None:
    card = make(qtbot, width=360)
    long_run = "https://example.org/" + "abcdefghij" * 20
    card.show_case(
        CaseView(
            code="TG-" + "9" * 80,
            title="标题很长" * 30 + long_run,
            status_text="处理中" * 20,
            tone="alarm",
            fields=[("地点", long_run), ("报告人" * 10, "某某" * 80)],
            description=long_run + " " + "说明" * 300,
            countdown_text="超期 3天" * 10,
            flags=["延期待批" * 15, "督办"],
        )
    )
    card.set_timeline([TimelineEntry("11-22 10:42", "王" * 60, long_run, "已派遣", long_run)])
    qtbot.wait(50)
    assert card.minimumSizeHint().width() <= 360
    assert card.width() == 360
    details = card.details
    assert details.widget().width() <= details.viewport().width()
    assert card.timeline.widget().width() <= card.timeline.viewport().width()
    for label in card.findChildren(QLabel):
        if label.isVisibleTo(card):
            right = label.mapTo(card, label.rect().topRight()).x()
            assert right <= card.width(), (label.objectName(), label.text()[:20])
    assert card.code.is_elided() and card.code.text().endswith("…")
    assert card.code.toolTip() == "TG-" + "9" * 80  # the whole code on hover
    assert plain(card.description.text()).startswith(long_run)  # wrapped, nothing lost


def test_the_record_loads_then_opens_at_its_newest_entry(qtbot) -> None:
    card = make(qtbot)
    card.show_case(VIEW)
    assert card.timeline_empty.text() == "正在载入处理记录…"
    card.set_timeline([])
    assert card.timeline_empty.text() == "暂无处理记录"
    card.set_timeline(entries(30))
    assert not card.timeline_empty.isVisible()
    qtbot.waitUntil(lambda: all(r.isVisible() for r in card.findChildren(TimelineRow)))
    rows = card.findChildren(TimelineRow)
    assert len(rows) == 30 and rows == card._rows
    assert rows[-1].entry == entries(30)[-1]  # newest at the bottom
    assert rows[-1].head.text() == "张晓燕  派遣 → 已派遣"
    qtbot.waitUntil(lambda: at_bottom(card))
    card.set_timeline(entries(30), note="处理记录载入失败：连接中断")
    assert card.timeline_note.isVisible()
    assert card.timeline_note.text() == "处理记录载入失败：连接中断"
    card.set_timeline(entries(30))
    assert not card.timeline_note.isVisible()


def test_the_same_case_updates_in_place_keeping_the_scroll(qtbot) -> None:
    card = make(qtbot)
    card.show_case(VIEW)
    card.set_timeline(entries(30))
    qtbot.waitUntil(lambda: at_bottom(card))
    rows = list(card._rows)
    value_labels = [value for _, value in card._field_labels]
    bar = card.timeline.verticalScrollBar()
    bar.setValue(10)  # the reader scrolls up to an older entry

    changed = CaseView(
        VIEW.code,
        VIEW.title,
        "处理中",
        "alarm",
        VIEW.fields,
        VIEW.description,
        "超期 5分",
        ["督办"],
    )
    card.show_case(changed)
    card.set_timeline(None)  # a refresh of the same case keeps what is shown
    assert len(card._rows) == 30 and card.timeline_empty.text() == "正在载入处理记录…"
    card.set_timeline(entries(31))
    qtbot.wait(50)
    assert card._rows[:30] == rows  # the same row widgets, one more
    assert [value for _, value in card._field_labels] == value_labels
    assert bar.value() == 10  # not yanked to the bottom
    assert card.status.full_text() == "处理中" and card.status.property("tone") == "alarm"
    assert card.countdown.full_text() == "超期 5分"
    assert [b.full_text() for b in card._flag_labels] == ["督办"]

    bar.setValue(bar.maximum())  # back at the bottom: new entries are followed again
    card.set_timeline(entries(40))
    qtbot.waitUntil(lambda: at_bottom(card) and len(card._rows) == 40)


def test_another_case_starts_over(qtbot) -> None:
    card = make(qtbot)
    card.show_case(VIEW)
    card.set_timeline(entries(30))
    photo = QPixmap(640, 480)
    photo.fill(QColor("#336699"))
    card.set_image(photo)
    card.timeline.verticalScrollBar().setValue(0)
    other = CaseView("TG-20261122-0044", "农贸市场周边占道经营", "待受理")
    card.show_case(other)
    assert card.timeline_entries() is None and card._rows == []
    assert card.timeline_empty.text() == "正在载入处理记录…"
    assert card.photo.pixmap() is None and not card.photo.isVisible()
    assert card.countdown.isHidden() and card.flags.isHidden() and card.description.isHidden()
    assert [n.text() for n, _ in card._field_labels] == []
    card.set_timeline(entries(25))
    qtbot.waitUntil(lambda: at_bottom(card))


def test_the_photo_keeps_its_aspect_and_is_never_enlarged(qtbot) -> None:
    card = make(qtbot, width=420)
    card.show_case(VIEW)
    big = QPixmap(1600, 900)
    big.fill(QColor("#884422"))
    card.set_image(big)
    qtbot.waitUntil(lambda: card.photo.isVisible() and card.photo.width() > 0)
    size = card.photo.target_size()
    assert size.width() <= card.photo.width() and size.height() <= 360
    assert abs(size.width() / size.height() - 16 / 9) < 0.02
    small = QPixmap(120, 90)
    small.fill(QColor("#224488"))
    card.set_image(small)
    qtbot.waitUntil(lambda: card.photo.height() == 90)
    assert card.photo.target_size().width() == 120
    image = card.photo.grab().toImage()
    assert image.pixelColor(60, 45) == QColor("#224488")
    card.set_image(None)
    assert not card.photo.isVisible()
    card.set_image(QPixmap())  # a picture that failed to decode is no picture
    assert not card.photo.isVisible()
