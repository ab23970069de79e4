"""The situation map as one HTML file: opens from disk in a real browser page with no
network, draws the batches, runs nothing the data says, and asks for nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from widgets.situation_page import standalone_page

HOSTILE = '<img src=x onerror="window.pwned=1">&<script>window.pwned=2</script>'


class Requests(QWebEngineUrlRequestInterceptor):
    """Every request the page makes, blocked unless it is the file itself."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.seen: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl().toString()
        self.seen.append(url)
        if url != self.page_url:
            info.block(True)


class Page(QWebEnginePage):
    """A page that keeps its console messages (a CSP refusal shows there)."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.console: list[str] = []

    def javaScriptConsoleMessage(self, level, message, line, source) -> None:  # type: ignore[no-untyped-def]
        self.console.append(message)


def js(qtbot, page: QWebEnginePage, code: str):  # type: ignore[no-untyped-def]
    result: list[object] = []
    page.runJavaScript(code, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=5000)
    return result[0]


def test_the_file_draws_its_batches_offline_and_runs_nothing_from_the_data(
    qtbot, tmp_path: Path
) -> None:
    ring = [[117.0, 30.5], [117.1, 30.5], [117.1, 30.6], [117.0, 30.6], [117.0, 30.5]]
    batches = [
        {
            "areas": [{"id": "g1", "rings": [ring], "fill": "#1d3a66", "label": HOSTILE}],
            "markers": [
                {"id": f"e{i}", "lon": 117.05, "lat": 30.55, "color": "#ff4d4f", "label": HOSTILE}
                for i in range(40)
            ],
            "labels": [{"lon": 117.05, "lat": 30.55, "text": HOSTILE, "minZoom": 0}],
            "fit": [[117.0, 30.5], [117.1, 30.6]],
        }
    ]
    config = {
        "center": [30.55, 117.05],
        "zoom": 12,
        "labelPx": 16,
        "tooltipPx": 14,
        "note": HOSTILE,
        "tiles": None,
    }
    path = tmp_path / "态势图.html"
    path.write_text(standalone_page(config, batches, f"态势图 {HOSTILE}"), encoding="utf-8")
    url = QUrl.fromLocalFile(str(path))
    profile = QWebEngineProfile()  # off the record, of this test alone
    requests = Requests(url.toString())
    profile.setUrlRequestInterceptor(requests)
    page = Page(profile)
    view = QWebEngineView()
    qtbot.addWidget(view)
    view.setPage(page)
    view.resize(800, 600)
    view.show()
    with qtbot.waitSignal(page.loadFinished, timeout=20000) as loaded:
        page.load(url)
    assert loaded.args == [True]
    qtbot.waitUntil(lambda: js(qtbot, page, "window.tg ? window.tg.applied : 0") == 1)
    counts = js(qtbot, page, "JSON.stringify(window.tg.counts())")
    assert '"areas":1' in counts and '"markers":40' in counts
    assert js(qtbot, page, "document.title") == f"态势图 {HOSTILE}"  # the title, as text
    assert js(qtbot, page, "String(window.pwned)") == "undefined"  # nothing of the data ran
    assert js(qtbot, page, "document.querySelectorAll('img, iframe').length") == 0
    shown = js(qtbot, page, "document.body.innerText")
    assert "<img src=x" in shown  # the note and the label show the text itself
    assert requests.seen == [url.toString()]  # the file, and nothing else
    assert not [m for m in page.console if "Content Security Policy" in m], page.console
    view.close()
    page.deleteLater()
