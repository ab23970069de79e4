"""The district picker of a city's user on the desk (duty page, 排班 and category tabs)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QComboBox


def show_districts(picker: QComboBox, districts: Mapping[str, str]) -> str:
    """List the districts (code → name) in the picker, the pick kept, and show it only when
    they are several; the code picked ("" for one district or none: the user's own)."""
    listed = [picker.itemData(i) for i in range(picker.count())]
    if listed != list(districts):
        chosen = picker.currentData()
        picker.blockSignals(True)
        picker.clear()
        for code, name in districts.items():
            picker.addItem(name, code)
        if chosen in districts:
            picker.setCurrentIndex(list(districts).index(chosen))
        picker.blockSignals(False)
    picker.setVisible(len(districts) > 1)
    code = picker.currentData() if len(districts) > 1 else ""
    return code if isinstance(code, str) else ""
