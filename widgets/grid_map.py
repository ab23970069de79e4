"""A live grid map: Leaflet (from Python packages, never a CDN) in a QWebEngineView.

The page and its files come from a URL scheme of its own, `tgmap://<page>/…`, served from
memory and from the Leaflet packages by `_Files`; it is never a file:// page, so it cannot
read files. Its Content-Security-Policy runs only its own script files and loads images only
from itself and the configured tile source; `LocalContentCanAccessFileUrls` and
`LocalContentCanAccessRemoteUrls` are off; any other request is blocked and recorded (one
interceptor per page). A local tile folder (`--tiles FOLDER`) is served through the same
scheme, an intranet tile server (`--tiles URL`) is asked directly, for tiles only.

The page is loaded once; afterwards only batches go in through runJavaScript, never a
reload. Every text from the data reaches the page as text (map_page/map.js). Knows nothing
of the application: it takes GeoJSON-like plain data and emits the ids clicked.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import msgspec
import xstatic.pkg.leaflet as xleaflet
import xstatic.pkg.leaflet_markercluster as xcluster
from PySide6.QtCore import QBuffer, QByteArray, QCoreApplication, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor as _Interceptor
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

SCHEME = "tgmap"
_PAGE_DIR = Path(__file__).with_name("map_page")
BACKGROUND = "#0b1a2e"  # the view's colour before the page draws: the wall's
_LEAFLET = Path(xleaflet.BASE_DIR)
_CLUSTER = Path(xcluster.BASE_DIR)
_CONSOLE_KEPT = 50  # the page's last console messages, for a test or a log


def _register_scheme() -> None:
    # Before any QtWebEngine object exists (this module makes the first one): a scheme
    # registered later is ignored. Host syntax gives each page its own origin, tgmap://m1.
    if QWebEngineUrlScheme.schemeByName(SCHEME.encode()).name():
        return
    scheme = QWebEngineUrlScheme(SCHEME.encode())
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    # No flags: not local (it reads no files for others), not secure (an intranet tile server
    # on http:// is not mixed content), and its pages obey their Content-Security-Policy.
    QWebEngineUrlScheme.registerScheme(scheme)


_register_scheme()


def _assets() -> dict[str, tuple[bytes, Path]]:
    """The page's files by URL path: mime type and where they are (a fixed list, no walk)."""
    files = {
        "/map.js": (b"text/javascript", _PAGE_DIR / "map.js"),
        "/map.css": (b"text/css", _PAGE_DIR / "map.css"),
        "/leaflet/leaflet.js": (b"text/javascript", _LEAFLET / "leaflet.js"),
        "/leaflet/leaflet.css": (b"text/css", _LEAFLET / "leaflet.css"),
        "/cluster/leaflet.markercluster.js": (
            b"text/javascript",
            _CLUSTER / "leaflet.markercluster.js",
        ),
        "/cluster/MarkerCluster.css": (b"text/css", _CLUSTER / "MarkerCluster.css"),
        "/cluster/MarkerCluster.Default.css": (b"text/css", _CLUSTER / "MarkerCluster.Default.css"),
    }
    for image in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png"):
        files[f"/leaflet/images/{image}"] = (b"image/png", _LEAFLET / "images" / image)
    return files


_PLACEHOLDER = re.compile(r"\\\{[a-z-]+\\\}")


@dataclass(frozen=True, slots=True)
class TileSource:
    """Where a page's base map comes from: Leaflet's URL template, the CSP source that lets
    its images in, a pattern of the remote URLs allowed out, or a local folder served."""

    template: str | None = None  # what Leaflet gets ("tgmap://m1/tiles/{z}/{x}/{y}.png")
    csp: str = ""  # img-src addition ("http://tiles.intra:8080")
    remote: re.Pattern[str] | None = None  # a tile server's URLs (nothing else goes out)
    folder: Path | None = None  # a local folder's tiles
    names: str = ""  # a tile's file in the folder ("{z}/{x}/{y}.png")
    local: re.Pattern[str] | None = None  # "/tiles/12/3418/1690.png" -> z, x, y

    @staticmethod
    def of(tile_url: str | None, host: str) -> TileSource:
        """From `--tiles`: an XYZ URL template (http/https) or a file:// folder template."""
        if not tile_url:
            return TileSource()
        if tile_url.startswith("file:"):
            return TileSource._folder(tile_url, host)
        parts = urlsplit(tile_url)
        netloc = parts.netloc.rpartition("@")[2]
        if parts.scheme not in ("http", "https") or not netloc:
            raise ValueError(f"not a tile URL template (http, https or a folder): {tile_url}")
        if "{" not in netloc:
            source = f"{parts.scheme}://{netloc}"
        elif netloc.startswith("{s}.") and "{" not in netloc[4:]:
            source = f"{parts.scheme}://*.{netloc[4:]}"  # a.tiles, b.tiles: any subdomain
        else:
            raise ValueError(f"only {{s}}. may vary in a tile server's name: {tile_url}")
        pattern = _PLACEHOLDER.sub(r"[A-Za-z0-9@._-]*", re.escape(tile_url))
        return TileSource(template=tile_url, csp=source, remote=re.compile(pattern))

    @staticmethod
    def _folder(tile_url: str, host: str) -> TileSource:
        # Served as tgmap://<page>/tiles/<names>: only whole numbers are put into the names,
        # so a request never reaches a file outside the folder.
        base, brace, rest = tile_url.partition("{")
        names = brace + rest
        pattern = re.escape(names)
        for key in ("z", "x", "y"):
            pattern = pattern.replace(re.escape("{" + key + "}"), rf"(?P<{key}>\d{{1,8}})", 1)
        if not brace or _PLACEHOLDER.search(pattern) or "?" in names or "#" in names:
            raise ValueError(f"a tile folder takes {{z}}, {{x}} and {{y}} once each: {tile_url}")
        return TileSource(
            template=f"{SCHEME}://{host}/tiles/{names}",
            folder=Path(url2pathname(unquote(urlsplit(base).path))),
            names=names,
            local=re.compile("/tiles/" + pattern),
        )

    def file(self, path: str) -> Path | None:
        """The local file of a tile's URL path (None: not a tile of this folder)."""
        match = self.local.fullmatch(path) if self.local is not None else None
        if match is None or self.folder is None:
            return None
        name = self.names
        for key in ("z", "x", "y"):
            name = name.replace("{" + key + "}", str(int(match.group(key))))
        return self.folder / name


@dataclass(frozen=True, slots=True)
class _Site:
    """One page: its HTML, its policy and its tiles."""

    page: bytes
    csp: bytes
    tiles: TileSource


class _Files(QWebEngineUrlSchemeHandler):
    """Answers tgmap://<page>/… from memory: each page's HTML, the shared files, local tiles."""

    def __init__(self, parent: QWebEngineProfile) -> None:
        super().__init__(parent)
        self.sites: dict[str, _Site] = {}
        self._files = _assets()
        self._cache: dict[str, bytes] = {}

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        """Reply with the file asked for, or fail (unknown page, path or method)."""
        url = job.requestUrl()
        site = self.sites.get(url.host())
        path = url.path()
        if site is None or bytes(job.requestMethod().data()) != b"GET":
            job.fail(QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        if path in ("/", "/page.html"):
            job.setAdditionalResponseHeaders(
                {
                    QByteArray(b"Content-Security-Policy"): [QByteArray(site.csp)],  # type: ignore[dict-item]
                    QByteArray(b"X-Content-Type-Options"): [QByteArray(b"nosniff")],  # type: ignore[dict-item]
                }
            )
            self._reply(job, b"text/html", site.page)
            return
        if path.startswith("/tiles/"):
            self._tile(job, site.tiles, path)
            return
        found = self._files.get(path)
        if found is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        mime, file = found
        body = self._cache.get(path)
        if body is None:
            # Read once per process (some 200 kB in all), then from memory.
            body = self._cache[path] = file.read_bytes()
        self._reply(job, mime, body)

    def _tile(self, job: QWebEngineUrlRequestJob, tiles: TileSource, path: str) -> None:
        file = tiles.file(path)
        if file is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        try:
            # A tile is a few kB from a local disk (the OS caches it): read here, on the GUI
            # thread, like the page's own files. A folder on a slow network share is not a
            # supported setup (serve it over HTTP instead).
            body = file.read_bytes()
        except OSError:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        mime = b"image/jpeg" if file.suffix.lower() in (".jpg", ".jpeg") else b"image/png"
        self._reply(job, mime, body)

    @staticmethod
    def _reply(job: QWebEngineUrlRequestJob, mime: bytes, body: bytes) -> None:
        buffer = QBuffer(job)  # goes with the job
        buffer.setData(body)
        buffer.open(QBuffer.OpenModeFlag.ReadOnly)
        job.reply(mime, buffer)


class _Requests(_Interceptor):
    """One page's gatekeeper: its own tgmap:// files and its tile server's tiles go through;
    anything else is blocked and recorded (the last few)."""

    def __init__(self, host: str, tiles: TileSource) -> None:
        super().__init__()
        self._own = f"{SCHEME}://{host}/"
        self._tiles = tiles.remote
        self.blocked: deque[str] = deque(maxlen=100)

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        """Let the page's own files and its tiles through; block the rest."""
        url = info.requestUrl().toString()
        if url.startswith(self._own):
            return
        if self._tiles is not None and self._tiles.fullmatch(url):
            return
        self.blocked.append(url)
        info.block(True)


class _Page(QWebEnginePage):
    """Stays on its one URL (no navigation, no new windows) and keeps its console's last
    messages."""

    def __init__(self, profile: QWebEngineProfile, url: QUrl, parent: QWidget) -> None:
        super().__init__(profile, parent)
        self._url = url
        self.console: deque[str] = deque(maxlen=_CONSOLE_KEPT)

    def acceptNavigationRequest(
        self, url: QUrl | str, type: QWebEnginePage.NavigationType, isMainFrame: bool
    ) -> bool:
        """Only the map page itself, in the main frame."""
        allowed = isMainFrame and QUrl(url) == self._url
        if not allowed:
            log.warning("map page: navigation refused")
        return allowed

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        lineNumber: int,
        sourceID: str,
    ) -> None:
        """Kept for tests and logged (the map's own script writes nothing there)."""
        self.console.append(message)
        log.debug("map page console (%s) %s:%s", level.name, sourceID, lineNumber)


_PROFILE: tuple[QWebEngineProfile, _Files] | None = None
_PAGES = count(1)


def _profile() -> tuple[QWebEngineProfile, _Files]:
    # One off-the-record profile for the application, owned by the application so that it
    # outlives every page that uses it; its handler serves every map page's files.
    global _PROFILE
    if _PROFILE is None:
        profile = QWebEngineProfile(QCoreApplication.instance())
        files = _Files(profile)
        profile.installUrlSchemeHandler(SCHEME.encode(), files)
        _PROFILE = (profile, files)
    return _PROFILE


def _policy(tiles: TileSource) -> bytes:
    """The page's Content-Security-Policy: its own files only (and the tile server's images)."""
    images = " ".join(p for p in ("'self'", tiles.csp) if p)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; font-src 'self'; connect-src 'none'; media-src 'none'; "
        "object-src 'none'; frame-src 'none'; worker-src 'none'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ).encode()


_json = msgspec.json.Encoder().encode


def _page_html(config: dict[str, Any]) -> bytes:
    # The settings go in as a JSON data block: no "<" in it can end the block.
    data = json.dumps(config, ensure_ascii=False)
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    template = (_PAGE_DIR / "page.html").read_text(encoding="utf-8")
    return (template % {"config": data}).encode()


class GridMap(QWebEngineView):
    """The map view: `apply_batch` sends areas and markers; `ready` fires once loaded."""

    ready = Signal()
    areaClicked = Signal(str)
    markerClicked = Signal(str)  # the id of a (non-static) marker clicked
    restarted = Signal()  # the page's renderer died and the page is loading again

    def __init__(
        self,
        centre: tuple[float, float],
        zoom: int = 12,
        tile_url: str | None = None,
        parent: QWidget | None = None,
        label_px: int = 16,
        note: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)  # no reload, no source
        host = f"m{next(_PAGES)}"
        profile, files = _profile()
        tiles = TileSource.of(tile_url, host)
        self._url = QUrl(f"{SCHEME}://{host}/page.html")
        page = _Page(profile, self._url, self)
        page.setBackgroundColor(QColor(BACKGROUND))  # the page's own, before it has loaded
        settings = page.settings()
        for attribute, on in (
            (QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, False),
            (QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False),
            (QWebEngineSettings.WebAttribute.NavigateOnDropEnabled, False),
            (QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False),
            (QWebEngineSettings.WebAttribute.JavascriptCanAccessClipboard, False),
        ):
            settings.setAttribute(attribute, on)
        self._interceptor = _Requests(host, tiles)
        self._interceptor.setParent(page)
        page.setUrlRequestInterceptor(self._interceptor)
        self.setPage(page)
        self._page = page
        lon, lat = centre
        files.sites[host] = _Site(
            page=_page_html(
                {
                    "center": [lat, lon],
                    "zoom": zoom,
                    "tiles": tiles.template,
                    "labelPx": label_px,
                    "tooltipPx": label_px - 2,
                    # The district outline is not an approved map (resources/district/README).
                    "note": self.tr("示意图，非标准地图") if note is None else note,
                }
            ),
            csp=_policy(tiles),
            tiles=tiles,
        )
        # The page's files go with the view.
        self.destroyed.connect(lambda *_: files.sites.pop(host, None))
        self.is_ready = False
        self.restarts = 0
        self._queue: list[dict[str, Any]] = []
        self._focus: list[list[float]] | None = None
        self._animate = True
        page.titleChanged.connect(self._title)
        page.renderProcessTerminated.connect(self._renderer_gone)
        self.load(self._url)

    def _renderer_gone(self, *_status: object) -> None:
        # A wall runs for months: a renderer killed (out of memory, a crash) must not leave
        # the map blank. Load the page again; whoever feeds it hears `restarted` and `ready`.
        self.is_ready = False
        self.restarts += 1
        self.restarted.emit()
        QTimer.singleShot(1000, lambda: self.load(self._url))

    @property
    def blocked_requests(self) -> list[str]:
        """URLs the page tried to fetch beyond its own files and tiles (should stay empty)."""
        return list(self._interceptor.blocked)

    @property
    def console_messages(self) -> list[str]:
        """The page's last console messages (its own script writes none)."""
        return list(self._page.console)

    def _title(self, title: str) -> None:
        if title == "ready" and not self.is_ready:
            self.is_ready = True
            queued, self._queue = self._queue, []
            for batch in queued:
                self.apply_batch(batch)
            if self._focus is not None:
                self.focus(self._focus, self._animate)
                self._focus = None
            self.ready.emit()
            return
        # "area:<click counter>:<id>" or "marker:…": the counter makes a second click on the
        # same id change the title.
        kind, _, rest = title.partition(":")
        if kind == "area" and ":" in rest:
            self.areaClicked.emit(rest.split(":", 1)[1])
        elif kind == "marker" and ":" in rest:
            self.markerClicked.emit(rest.split(":", 1)[1])

    def apply_batch(self, batch: dict[str, Any]) -> None:
        """Send one batch of plain data (JSON-able), applied in the page in one go.

        areas: [{id, rings, fill (None: outline only), stroke, weight, opacity, dash, label,
        interactive}] (a known id only restyles); markers: [{id, lon, lat, color, stroke,
        radius, label, pulse, static (outside clustering), interactive}]; remove: [marker
        ids]; labels: [{lon, lat, text, minZoom, short, shortZoom}]; units_reset (drop areas,
        static markers and labels first); fit: [[lon, lat], [lon, lat]]. Labels are plain
        text (a line break breaks the line), never HTML.
        """
        if not self.is_ready:
            self._queue.append(batch)
            return
        # msgspec writes JSON several times faster than json.dumps (a batch at 2,000 events/s
        # holds ~800 markers); the trailing `;0` keeps the page from sending back a result.
        self.page().runJavaScript(f"window.tg.apply({_json(batch).decode()});0")

    def focus(self, bounds: list[list[float]], animate: bool = True) -> None:
        """Fly (or, not animated, jump) to a bounding box given as [[lon, lat], [lon, lat]]
        (once loaded, if not yet)."""
        if not self.is_ready:
            self._focus = bounds
            self._animate = animate
            return
        self.page().runJavaScript(f"window.tg.focus({json.dumps(bounds)}, {json.dumps(animate)})")
