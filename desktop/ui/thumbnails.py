"""Fetches alert snapshots from the backend without blocking: QNetworkAccessManager + SVG.

The session's token goes in an Authorization header (never in the URL); a few requests at
a time; the newest alerts first.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QByteArray, QObject, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtSvg import QSvgRenderer


def http_base(ws_url: str) -> str:
    """The backend's HTTP base for a websocket URL (ws→http, wss→https)."""
    if ws_url.startswith("wss://"):
        return "https://" + ws_url[6:].rstrip("/")
    if ws_url.startswith("ws://"):
        return "http://" + ws_url[5:].rstrip("/")
    return ws_url.rstrip("/")


class ThumbnailLoader(QObject):
    """`want(alert_id, path)` queues a fetch; `loaded(alert_id, QPixmap)` answers, after
    `fetched(alert_id, bytes)` with the snapshot as it came (for a view that draws it at a
    size of its own: widgets.snapshot_view)."""

    loaded = Signal(int, QPixmap)
    fetched = Signal(int, bytes)

    def __init__(
        self,
        ws_url: str,
        token: str,
        size: QSize = QSize(160, 90),  # noqa: B008
        parallel: int = 4,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._base = http_base(ws_url)
        self._auth = QByteArray(f"Bearer {token}".encode())
        self._size = size
        self._parallel = parallel
        self._network = QNetworkAccessManager(self)
        self._queue: OrderedDict[int, str] = OrderedDict()
        self._flying: set[int] = set()
        self._done: set[int] = set()
        self.failures = 0

    def retarget(self, ws_url: str) -> None:
        """The backend is back at `ws_url` (an embedded one restarted on another port)."""
        self._base = http_base(ws_url)

    def want(self, alert_id: int, path: str) -> None:
        """Fetch this alert's snapshot unless it is fetched, flying or queued."""
        if alert_id in self._done or alert_id in self._flying or alert_id in self._queue:
            return
        self._queue[alert_id] = path
        while len(self._queue) > 64:  # the oldest wishes go: the feed has moved on
            self._queue.popitem(last=False)
        self._pump()

    def forget(self, keep: set[int]) -> None:
        """Allow refetching anything not in `keep` (its pixmap was dropped, or it failed)."""
        self._done &= keep

    def clear(self) -> None:
        """A new epoch (another database): alert ids name other alerts now."""
        self._done.clear()
        self._queue.clear()

    def _pump(self) -> None:
        while self._queue and len(self._flying) < self._parallel:
            alert_id, path = self._queue.popitem(last=True)  # newest first
            request = QNetworkRequest(QUrl(self._base + path))
            request.setRawHeader(QByteArray(b"Authorization"), self._auth)
            # The token never follows a redirect to another host.
            request.setAttribute(
                QNetworkRequest.Attribute.RedirectPolicyAttribute,
                QNetworkRequest.RedirectPolicy.SameOriginRedirectPolicy,
            )
            request.setTransferTimeout(10_000)
            reply = self._network.get(request)
            self._flying.add(alert_id)
            reply.finished.connect(lambda r=reply, i=alert_id: self._finished(i, r))

    def _finished(self, alert_id: int, reply: QNetworkReply) -> None:
        self._flying.discard(alert_id)
        try:
            if reply.error() != QNetworkReply.NetworkError.NoError:
                self.failures += 1
                self._done.add(alert_id)  # not asked again each frame; forget() allows a retry
                return
            data = bytes(reply.readAll().data())
            pixmap = self._render(data)
            if pixmap is not None:
                self._done.add(alert_id)
                self.fetched.emit(alert_id, data)
                self.loaded.emit(alert_id, pixmap)
            else:
                self.failures += 1
                self._done.add(alert_id)
        finally:
            reply.deleteLater()
            self._pump()

    def _render(self, data: bytes) -> QPixmap | None:
        renderer = QSvgRenderer(QByteArray(data))
        if renderer.isValid():
            image = QImage(self._size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.black)
            painter = QPainter(image)
            renderer.render(painter)
            painter.end()
            return QPixmap.fromImage(image)
        image = QImage.fromData(data)
        if image.isNull():
            return None
        return QPixmap.fromImage(image.scaled(self._size, Qt.AspectRatioMode.KeepAspectRatio))
