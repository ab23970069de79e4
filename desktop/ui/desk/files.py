"""Files from the backend on the desk: the shifts' handover reports (交接班报告, opened as a
page or saved as a PDF) and exports of the cases the user may see (CSV, XLSX).

Each file is asked for over the websocket (`download`, docs/protocol.md §6.13), which answers
a path with a one-time ticket; the file is then fetched once over HTTP with the session's
token in the Authorization header (never in the URL) and written beside its place, then
renamed: never half a file.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QByteArray, QDate, QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.district_time import local
from desktop.core.replica import Replica
from desktop.ui.desk.texts import tr
from desktop.ui.thumbnails import http_base
from protocol.entities import Category
from protocol.glossary import SOURCE_NAMES, STATUS_NAMES
from protocol.messages import Error, Result

_START = int(Qt.ItemDataRole.UserRole) + 1
SHIFT_DAYS = 14  # the list shows the shifts that began in the last two weeks


class FileRequests(Protocol):
    """Where the desk asks for files (desktop.core.link.SessionThread)."""

    async def shifts(
        self, first: str, last: str, patience: float = 10.0, district: str = ""
    ) -> Result | Error: ...

    async def download(self, patience: float = 60.0, **fields: Any) -> Result | Error: ...


class FileFetcher(QObject):
    """Fetches a ticket's file from the backend's HTTP with the token in a header."""

    def __init__(self, ws_url: str, token: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._base = http_base(ws_url)
        self._auth = QByteArray(f"Bearer {token}".encode())
        self._network = QNetworkAccessManager(self)

    def retarget(self, ws_url: str) -> None:
        """The backend is back at `ws_url`."""
        self._base = http_base(ws_url)

    async def fetch(self, path: str) -> bytes:
        """The file at `path` (a ticket's), or OSError saying why not."""
        request = QNetworkRequest(QUrl(self._base + path))
        request.setRawHeader(QByteArray(b"Authorization"), self._auth)
        reply = self._network.get(request)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def finished() -> None:
            if not done.done():
                done.set_result(None)

        reply.finished.connect(finished)
        try:
            await done
            if reply.error() != QNetworkReply.NetworkError.NoError:
                raise OSError(0, reply.errorString())
            return bytes(reply.readAll().data())
        finally:
            reply.deleteLater()


def write_file(path: Path, body: bytes) -> None:
    """Write `path` whole or not at all: a hidden file beside it, then renamed."""
    partial = path.with_name(f".{path.name}.part")
    try:
        partial.write_bytes(body)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


async def get_file(
    requests: FileRequests, fetcher: FileFetcher, **fields: Any
) -> tuple[str, bytes]:
    """Ask for a file and fetch it: (its name, its bytes); OSError with the backend's words
    when refused."""
    answer = await requests.download(**fields)
    if isinstance(answer, Error):
        raise OSError(0, answer.message)
    data = answer.data or {}
    return str(data["name"]), await fetcher.fetch(str(data["path"]))


class ShiftReports(QWidget):
    """交接班报告: the recent shifts, each opened as a page or saved as a PDF."""

    def __init__(
        self,
        requests: Callable[[], FileRequests | None],
        fetcher: Callable[[], FileFetcher | None],
        clock: Callable[[], float],
        parent: QWidget | None = None,
        district: Callable[[], str] = lambda: "",
    ) -> None:
        super().__init__(parent)
        self._requests = requests
        self._fetcher = fetcher
        self._clock = clock
        # Whose centre's shifts ("": the user's own district; a city's user picks one).
        self._district = district
        self.opened: Callable[[Path], object] = lambda path: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(path))
        )
        self.save_as: Callable[[str], str] = self._ask_where
        self.title = QLabel(tr("交接班报告"), self)
        self.title.setObjectName("sectionTitle")
        self.list = QListWidget(self)
        self.list.setObjectName("duty_shifts")
        self.status = QLabel(self)
        self.status.setObjectName("shiftStatus")
        self.status.setWordWrap(True)
        self.refresh_button = QPushButton(tr("刷新"), self)
        self.open_button = QPushButton(tr("打开报告"), self)
        self.pdf_button = QPushButton(tr("保存 PDF…"), self)
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.open_button, self.pdf_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.refresh_button.clicked.connect(lambda: self._run(self.refresh()))
        self.open_button.clicked.connect(lambda: self._run(self.open_chosen()))
        self.pdf_button.clicked.connect(lambda: self._run(self.save_chosen()))
        self.list.itemActivated.connect(lambda _item: self._run(self.open_chosen()))
        self._task: asyncio.Future[None] | None = None
        self._listed = False  # the shifts were asked for once (later: 刷新, another district)
        self.folder = Path(tempfile.gettempdir()) / f"tongguan-reports-{os.getuid()}"

    def _run(self, work: Awaitable[None]) -> bool:
        """Start `work` unless another is under way; whether it was started."""
        if self._task is not None and not self._task.done():
            work.close()  # type: ignore[attr-defined]
            return False
        self._task = asyncio.ensure_future(work)
        return True

    def showEvent(self, event: QShowEvent) -> None:
        """The first time the list is shown it fills itself: nobody has to press 刷新."""
        super().showEvent(event)
        self.list_once()

    def list_once(self) -> None:
        """Ask for the shifts if never asked yet and the list is on screen with a link to
        ask through (in the background: the answer comes over the websocket)."""
        if self._listed or not self.isVisible() or self._requests() is None:
            return
        self._listed = self._run(self.refresh())

    async def refresh(self) -> None:
        """List the shifts of the last two weeks, newest first."""
        requests = self._requests()
        if requests is None:
            self.status.setText(tr("尚未连接调度服务"))
            return
        now = self._clock()
        first = local_stamp(now - SHIFT_DAYS * 86400)[:10]
        last = local_stamp(now)[:10]
        self.status.setText(tr("正在载入班次…"))
        district: str | None = None
        answer: Result | Error | None = None
        # Another district picked while the answer was on its way: ask again for that one.
        while district != self._district():
            district = self._district()
            try:
                answer = await requests.shifts(first, last, district=district)
            except (TimeoutError, ConnectionError) as exc:
                self.status.setText(str(exc))
                return
        if not isinstance(answer, Result):
            self.status.setText(answer.message if answer is not None else "")
            return
        self.list.clear()
        for row in (answer.data or {}).get("shifts", []):
            end = local_stamp(row["end"])[5:16] if row["end"] else tr("进行中")
            note = tr(" · 有交班记录") if row["note"] else ""
            text = (
                tr("%1 至 %2 · 值班指挥长 %3")
                .replace("%1", local_stamp(row["start"])[:16])
                .replace("%2", end)
                .replace("%3", row["commander"])
                + note
            )
            item = QListWidgetItem(text)
            item.setData(_START, float(row["start"]))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0 if self.list.count() == 1 else 1)  # the last ended
        self.status.setText(tr("共 %1 个班次").replace("%1", str(self.list.count())))

    def refresh_soon(self) -> None:
        """List the shifts again (another district was picked); a listing under way asks
        again for the district picked when its answer comes."""
        self._listed = False
        self.list_once()

    def _chosen(self) -> float | None:
        item = self.list.currentItem()
        start = item.data(_START) if item is not None else None
        return float(start) if isinstance(start, float) else None

    async def _get(self, fmt: str) -> tuple[str, bytes] | None:
        start = self._chosen()
        requests, fetcher = self._requests(), self._fetcher()
        if start is None or requests is None or fetcher is None:
            self.status.setText(tr("请先选择班次"))
            return None
        self.status.setText(tr("正在生成报告…"))
        try:
            return await get_file(
                requests,
                fetcher,
                report="handover",
                format=fmt,
                shift=start,
                district=self._district(),
            )
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.status.setText(tr("无法取得报告：%1").replace("%1", _why(exc)))
            return None

    async def open_chosen(self) -> None:
        """Fetch the chosen shift's report and open it as a page."""
        got = await self._get("html")
        if got is None:
            return
        name, body = got
        self.folder.mkdir(mode=0o700, exist_ok=True)
        path = self.folder / name
        write_file(path, body)
        self.status.setText(tr("已打开 %1").replace("%1", name))
        self.opened(path)

    async def save_chosen(self) -> None:
        """Fetch the chosen shift's report as a PDF and save it where the user says."""
        got = await self._get("pdf")
        if got is None:
            return
        name, body = got
        save_where_chosen(self.save_as(name), body, self.status, tr("已保存 %1"))

    def _ask_where(self, name: str) -> str:
        chosen, _ = QFileDialog.getSaveFileName(
            self, tr("保存交接班报告"), str(Path.home() / name), tr("PDF 文件 (*.pdf)")
        )
        return chosen


def category_choices(categories: Iterable[Category]) -> list[tuple[str, str]]:
    """The export's categories to pick from, by code: each code once (it filters that
    category in every district the user sees), with every name the districts give it."""
    names: dict[str, list[str]] = {}
    for category in categories:
        held = names.setdefault(category.code, [])
        if category.name not in held:
            held.append(category.name)
    return [(code, f"{code} {'／'.join(held)}") for code, held in sorted(names.items())]


class ExportDialog(QDialog):
    """导出事件: the cases the user may see, reported in a period, with the CLI's filters."""

    def __init__(
        self,
        replica: Replica,
        requests: FileRequests,
        fetcher: FileFetcher,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("导出事件"))
        self._requests = requests
        self._fetcher = fetcher
        self.save_as: Callable[[str, str], str] = self._ask_where
        today = QDate.fromString(local_stamp(clock())[:10], "yyyy-MM-dd")
        self.first = QDateEdit(today.addDays(-6), self)
        self.last = QDateEdit(today, self)
        for edit in (self.first, self.last):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
        units = replica.units
        self.street = self._combo(
            [(s.code, s.name) for s in (units.streets if units is not None else [])]
        )
        self.status_box = self._combo(list(STATUS_NAMES.items()))
        self.category = self._combo(category_choices(units.categories if units else []))
        self.source = self._combo(list(SOURCE_NAMES.items()))
        self.format = QComboBox(self)
        self.format.addItem("Excel (XLSX)", "xlsx")
        self.format.addItem("CSV", "csv")
        self.message = QLabel(self)
        self.message.setObjectName("exportMessage")
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("上报日期自"), self.first)
        form.addRow(tr("至"), self.last)
        form.addRow(tr("街道"), self.street)
        form.addRow(tr("状态"), self.status_box)
        form.addRow(tr("类别"), self.category)
        form.addRow(tr("来源"), self.source)
        form.addRow(tr("格式"), self.format)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            tr("导出…"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(tr("关闭"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(lambda: asyncio.ensure_future(self.export()))
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.written: Path | None = None

    def _combo(self, items: list[tuple[str, str]]) -> QComboBox:
        box = QComboBox(self)
        box.addItem(tr("全部"), "")
        for code, name in items:
            box.addItem(name, code)
        return box

    def fields(self) -> dict[str, Any]:
        """The request's fields as chosen."""
        fields: dict[str, Any] = {
            "report": "export",
            "format": self.format.currentData(),
            "first": self.first.date().toString("yyyy-MM-dd"),
            "last": self.last.date().toString("yyyy-MM-dd"),
        }
        for name, box in (
            ("street", self.street),
            ("status", self.status_box),
            ("category", self.category),
            ("source", self.source),
        ):
            if box.currentData():
                fields[name] = [box.currentData()]
        return fields

    async def export(self) -> None:
        """Ask the backend, fetch the file and save it where the user says."""
        fields = self.fields()
        self.export_button.setEnabled(False)
        self.message.setText(tr("正在导出…"))
        try:
            name, body = await get_file(self._requests, self._fetcher, **fields)
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.message.setText(tr("导出失败：%1").replace("%1", _why(exc)))
            return
        finally:
            self.export_button.setEnabled(True)
        chosen = self.save_as(name, str(fields["format"]))
        self.written = save_where_chosen(chosen, body, self.message, tr("已导出到 %1"))

    def _ask_where(self, name: str, fmt: str) -> str:
        kinds = tr("Excel 文件 (*.xlsx)") if fmt == "xlsx" else tr("CSV 文件 (*.csv)")
        chosen, _ = QFileDialog.getSaveFileName(
            self, tr("导出事件"), str(Path.home() / name), kinds
        )
        return chosen


def save_where_chosen(chosen: str, body: bytes, status: QLabel, done: str) -> Path | None:
    """Write `body` where the user chose ("" when they cancelled) and say so in `status`:
    `done` with %1 the path, or why it could not be written. The path written, or None."""
    if not chosen:
        status.setText("")
        return None
    try:
        write_file(Path(chosen), body)
    except OSError as exc:
        status.setText(tr("无法写入 %1：%2").replace("%1", chosen).replace("%2", _why(exc)))
        return None
    status.setText(done.replace("%1", chosen))
    return Path(chosen)


def local_stamp(seconds: float) -> str:
    """The district's date and minute: 2026-11-24 08:30."""
    return local(seconds).strftime("%Y-%m-%d %H:%M")


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
