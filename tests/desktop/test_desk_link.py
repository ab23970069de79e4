"""The desk's link label: connecting before a first try, restarting in words."""

from __future__ import annotations

import time

from desktop.core.replica import Replica
from desktop.core.session import Status
from desktop.core.supervisor import BackendState
from desktop.ui.desk.window import DeskWindow
from tests.desktop.test_wall import _KEEP


def test_the_desk_says_connecting_then_what_its_backend_is_doing(qtbot) -> None:
    window = DeskWindow(Replica())
    _KEEP.append(window)  # its map page lives to the end of the process, as the wall's
    assert window.link.text() == "● 正在连接调度服务…"  # not 连接中断 before a first try
    window.set_backend(BackendState("starting"))
    assert window.link.text() == "● 正在连接调度服务…"
    window.set_backend(BackendState("ready", url="ws://127.0.0.1:1"))
    window.set_status(Status(True, time.time(), time.time()))
    assert window.link.text() == "● 已连接"
    window.set_status(Status(False, time.time(), time.time(), attempt=1, error="closed"))
    assert window.link.text() == "● 连接中断，正在重连…"
    window.set_backend(BackendState("restarting", 1, "exited", exit_code=-9))
    assert window.link.text() == "● 调度服务重启中，第 1 次"
    window.set_backend(BackendState("ready", 1, url="ws://127.0.0.1:1"))
    window.set_status(Status(True, time.time(), time.time()))
    assert window.link.text() == "● 已连接"
