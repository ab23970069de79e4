"""Synthetic alert snapshots: valid, escaped, small SVG camera frames."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from dispatch.domain.calendar import CST
from dispatch.domain.snapshots import FONT_FAMILY, render_alert_snapshot

SVG = "{http://www.w3.org/2000/svg}"
AT = datetime(2026, 11, 22, 6, 3, 5, tzinfo=UTC)  # 14:03:05 CST


def texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_valid_svg_of_the_right_size() -> None:
    svg = render_alert_snapshot("菱湖南路与人民路口-东", "占道经营", 0.91, AT, seed=1)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == ("320", "180")
    assert root.get("font-family") == FONT_FAMILY
    assert "WenQuanYi Micro Hei" in FONT_FAMILY and "Microsoft YaHei" in FONT_FAMILY
    assert any(r.get("stroke") == "#ff2a2a" for r in root.iter(f"{SVG}rect"))  # detection box


def test_osd_and_label() -> None:
    shown = texts(render_alert_snapshot("菱湖南路与人民路口-东", "占道经营", 0.91, AT, seed=1))
    assert "2026-11-22 14:03:05" in shown  # CST, yyyy-mm-dd hh:mm:ss
    assert "菱湖南路与人民路口-东" in shown
    assert "占道经营 0.91" in shown


def test_text_is_escaped() -> None:
    name = '<script>alert("x")</script> & 路口'
    svg = render_alert_snapshot(name, "烟雾<火情>&", 0.5, AT, seed=2)
    assert b"<script>" not in svg
    shown = texts(svg)
    assert name in shown
    assert "烟雾<火情>& 0.50" in shown


@pytest.mark.parametrize("seed", range(0, 3000, 29))
def test_small(seed: int) -> None:
    svg = render_alert_snapshot("马山花园12栋2单元电梯", "电动车进楼入梯", 0.87, AT, seed)
    assert len(svg) < 6 * 1024
    ET.fromstring(svg)


def test_deterministic_per_seed_and_varied() -> None:
    one = render_alert_snapshot("cam", "暴露垃圾", 0.8, AT, seed=3)
    assert one == render_alert_snapshot("cam", "暴露垃圾", 0.8, AT, seed=3)
    assert one != render_alert_snapshot("cam", "暴露垃圾", 0.8, AT, seed=4)


def test_night_frames_are_grey() -> None:
    night = render_alert_snapshot("cam", "暴露垃圾", 0.8, datetime(2026, 11, 22, 23, tzinfo=CST), 3)
    day = render_alert_snapshot("cam", "暴露垃圾", 0.8, datetime(2026, 11, 22, 11, tzinfo=CST), 3)
    assert b"#b9cde0" not in night and b"#55585c" not in night
    assert b"#55585c" in day


def test_rejects_naive_time() -> None:
    with pytest.raises(ValueError):
        render_alert_snapshot("cam", "暴露垃圾", 0.8, datetime(2026, 11, 22, 11), 3)
