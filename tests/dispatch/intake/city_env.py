"""A city store for the intakes: 大观区 and 迎江区 in one store, 迎江区's category table with a
code and a camera detection kind of its own (`01-90` 江堤垃圾, `river_litter`) that 大观区's
lacks, so a test can tell which district's table an intake offers and checks."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from dispatch.app import load_categories_into, prepare, stored_departments
from dispatch.domain.categories import parse_categories
from dispatch.store.store import Store

DAGUAN, YINGJIANG = "340803", "340802"
BINJIANG = "340802006"  # 迎江区 滨江街道
OWN_CODE = "01-90"  # 迎江区's table only
OWN_NAME = "江堤垃圾"
OWN_KIND = "river_litter"  # 迎江区's detection kinds only


def yingjiang_table() -> bytes:
    """The default table with 迎江区's own category and detection kind added."""
    path = resources.files("resources") / "district" / "categories.json"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    doc["categories"].append(
        {
            "code": OWN_CODE,
            "name": OWN_NAME,
            "priority": 3,
            "weight": 1.0,
            "department": "CGJ",
            "basis": "working",
            "limits": {"accept": "1h", "dispatch": "1h", "handle": "4h", "verify": "1h"},
            "standard": "长江堤岸有成堆垃圾予以立案，清运干净后结案。",
        }
    )
    doc["camera_kinds"].append(
        {"code": OWN_KIND, "name": "江面漂浮物", "category": OWN_CODE, "priority": 3}
    )
    return json.dumps(doc, ensure_ascii=False).encode()


def city_store(path: Path) -> Store:
    """A SQLite city store at `path` whose 迎江区 table has its own code and kind."""
    store = Store(f"sqlite:///{path}")
    prepare(store, codes=(DAGUAN, YINGJIANG))
    table = parse_categories(
        yingjiang_table(), "yingjiang.json", stored_departments(store, YINGJIANG)
    )
    change = load_categories_into(store, table, "test", district=YINGJIANG)
    assert change.loaded, change
    return store
