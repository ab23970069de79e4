"""The backend's exports and the screens use the same Chinese words for the same things."""

from __future__ import annotations

from desktop.ui.models import LEVEL_TEXT, PRIORITY_TEXT, SOURCE_TEXT, STATUS_TEXT
from protocol.glossary import LEVEL_NAMES, PRIORITY_NAMES, SOURCE_NAMES, STATUS_NAMES


def test_one_word_for_each_status_source_priority_and_level() -> None:
    assert STATUS_NAMES == STATUS_TEXT
    assert SOURCE_NAMES == SOURCE_TEXT
    assert PRIORITY_NAMES == PRIORITY_TEXT
    assert LEVEL_NAMES == LEVEL_TEXT
