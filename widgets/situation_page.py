"""A grid map as one HTML file that opens anywhere with no network: a shareable 态势图.

The live map's own page (map_page/: Leaflet and its clustering from the Python packages, the
page's script and style) with everything inlined, and the map's state as data applied when
it opens. Nothing in it can reach out: its Content-Security-Policy allows only its own
inline scripts and styles (by their hashes) and data: images, and connects nowhere. Every
text from the data is data in a JSON block, read with JSON.parse and shown as text by the
page's script (never parsed as HTML). The files are the live map's own list of them
(widgets/grid_map.py `_assets`), so the two pages cannot drift apart.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any


def _page_files() -> tuple[list[Path], list[Path]]:
    """The live page's styles and scripts, in the order the page loads them (Leaflet, its
    clustering, then the page's own), from the one list the live map serves
    (grid_map._assets); images are left out: the map draws on canvases and needs none."""
    from widgets.grid_map import _assets  # the live map's list (it brings Qt along)

    def order(item: tuple[str, tuple[bytes, Path]]) -> int:
        url = item[0]
        return 0 if url.startswith("/leaflet/") else 1 if url.startswith("/cluster/") else 2

    files = sorted(_assets().items(), key=order)
    styles = [path for _, (mime, path) in files if mime == b"text/css"]
    scripts = [path for _, (mime, path) in files if mime == b"text/javascript"]
    return styles, scripts


# Applies the batches once the page's script has made window.tg (data in, never code), and
# gives the document its title back (the live page's script marks it "ready").
_APPLY = (
    'JSON.parse(document.getElementById("tg-batches").textContent)'
    ".forEach(function (b) { window.tg.apply(b); });"
    'document.title = JSON.parse(document.getElementById("tg-title").textContent);'
)


def _data(value: Any) -> str:
    """JSON for a data block: no "<" in it can end the block, whatever the texts hold."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _hash(block: str) -> str:
    digest = hashlib.sha256(block.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def standalone_page(config: dict[str, Any], batches: list[dict[str, Any]], title: str) -> str:
    """The page as one HTML document: `config` as the live page gets it (center [lat, lon],
    zoom, labelPx, tooltipPx, note), then `batches` applied in order (GridMap.apply_batch's
    format). Leaflet's images are left out: the map draws on canvases and needs none."""
    style_files, script_files = _page_files()
    styles = [path.read_text(encoding="utf-8") for path in style_files]
    # A script block must not hold "</script": none of these files does (checked by a test).
    scripts = [path.read_text(encoding="utf-8") for path in script_files] + [_APPLY]
    policy = (
        "default-src 'none'; "
        f"script-src {' '.join(_hash(s) for s in scripts)}; "
        f"style-src {' '.join(_hash(s) for s in styles)}; "
        "img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">',
        f"<title>{_escape(title)}</title>",
        *(f"<style>{s}</style>" for s in styles),
        "</head>",
        "<body>",
        '<div id="map"></div>',
        f'<script type="application/json" id="tg-config">{_data(config)}</script>',
        f'<script type="application/json" id="tg-batches">{_data(batches)}</script>',
        f'<script type="application/json" id="tg-title">{_data(title)}</script>',
        *(f"<script>{s}</script>" for s in scripts),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts)
