"""The desk's words: tabs, actions, refusals and the timeline, in the installed language.

Marked for lupdate here and translated when looked up, like desktop/ui/models.py's tables.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QCoreApplication

from desktop.core.refusals import Refusal
from desktop.core.replica import Replica
from desktop.i18n import QT_TRANSLATE_NOOP
from desktop.ui.models import STATUS_TEXT, countdown, text

TAB_TEXT: dict[Any, str] = {
    "triage": QT_TRANSLATE_NOOP("Desk", "待分拨"),
    "accept": QT_TRANSLATE_NOOP("Desk", "待受理"),
    "dispatch": QT_TRANSLATE_NOOP("Desk", "待派遣"),
    "working": QT_TRANSLATE_NOOP("Desk", "处置中"),
    "verify": QT_TRANSLATE_NOOP("Desk", "待核查"),
    "close": QT_TRANSLATE_NOOP("Desk", "待结案"),
    "approve": QT_TRANSLATE_NOOP("Desk", "待审批"),
    "district": QT_TRANSLATE_NOOP("Desk", "区级案件"),
    "consult": QT_TRANSLATE_NOOP("Desk", "会商中"),
    "supervise": QT_TRANSLATE_NOOP("Desk", "待督办"),
    "overdue": QT_TRANSLATE_NOOP("Desk", "超期"),
}

# What each op is called on its button, and in the timeline (the log's action names).
OP_TEXT: dict[Any, str] = {
    "report": QT_TRANSLATE_NOOP("Desk", "登记"),
    "accept": QT_TRANSLATE_NOOP("Desk", "受理"),
    "reject": QT_TRANSLATE_NOOP("Desk", "不予受理"),
    "classify": QT_TRANSLATE_NOOP("Desk", "分拨定类"),
    "dispatch": QT_TRANSLATE_NOOP("Desk", "派遣"),
    "acknowledge": QT_TRANSLATE_NOOP("Desk", "签收"),
    "start": QT_TRANSLATE_NOOP("Desk", "开始处置"),
    "handled": QT_TRANSLATE_NOOP("Desk", "处置完毕"),
    "verify": QT_TRANSLATE_NOOP("Desk", "核查"),
    "close": QT_TRANSLATE_NOOP("Desk", "结案"),
    "evaluate": QT_TRANSLATE_NOOP("Desk", "评价"),
    "return_case": QT_TRANSLATE_NOOP("Desk", "退单"),
    "request_extension": QT_TRANSLATE_NOOP("Desk", "申请延期"),
    "decide_extension": QT_TRANSLATE_NOOP("Desk", "延期审批"),
    "request_hold": QT_TRANSLATE_NOOP("Desk", "申请挂账"),
    "decide_hold": QT_TRANSLATE_NOOP("Desk", "挂账审批"),
    "release_hold": QT_TRANSLATE_NOOP("Desk", "解除挂账"),
    "escalate": QT_TRANSLATE_NOOP("Desk", "上报"),
    "supervise": QT_TRANSLATE_NOOP("Desk", "督办"),
    "consult": QT_TRANSLATE_NOOP("Desk", "发起会商"),
    "decide": QT_TRANSLATE_NOOP("Desk", "会商意见"),
    "end_consult": QT_TRANSLATE_NOOP("Desk", "结束会商"),
    "instruct": QT_TRANSLATE_NOOP("Desk", "批示"),
    "reopen": QT_TRANSLATE_NOOP("Desk", "重新派遣"),
    "assist_report": QT_TRANSLATE_NOOP("Desk", "协办反馈"),
    "confirm_alert": QT_TRANSLATE_NOOP("Desk", "确认告警"),
    "dismiss_alert": QT_TRANSLATE_NOOP("Desk", "误报"),
    "attach_alert": QT_TRANSLATE_NOOP("Desk", "并入案件"),
    "handover": QT_TRANSLATE_NOOP("Desk", "交接班"),
    "shift_note": QT_TRANSLATE_NOOP("Desk", "交班记录"),
    # The log's own actions: the clock's (actor "system", docs/protocol.md §4.2) and the
    # failed check.
    "rework": QT_TRANSLATE_NOOP("Desk", "核查不通过"),
    "overdue": QT_TRANSLATE_NOOP("Desk", "超期"),
    "missed": QT_TRANSLATE_NOOP("Desk", "超过结案时限"),
    "auto_escalate": QT_TRANSLATE_NOOP("Desk", "自动上报"),
    "auto_supervise": QT_TRANSLATE_NOOP("Desk", "自动督办"),
    "auto_reopen": QT_TRANSLATE_NOOP("Desk", "评价不满意，自动重办"),
    "hold_expired": QT_TRANSLATE_NOOP("Desk", "到期解除挂账"),
}

# How an intake case's place was found (protocol Intake.place; docs/intake.md §2.5).
PLACE_TEXT: dict[Any, str] = {
    "point": QT_TRANSLATE_NOOP("Desk", "坐标"),
    "poi": QT_TRANSLATE_NOOP("Desk", "门牌/地标"),
    "road": QT_TRANSLATE_NOOP("Desk", "道路"),
    "grid": QT_TRANSLATE_NOOP("Desk", "网格"),
    "community": QT_TRANSLATE_NOOP("Desk", "社区"),
    "street": QT_TRANSLATE_NOOP("Desk", "街道"),
    "none": QT_TRANSLATE_NOOP("Desk", "未匹配，待核实"),
}

# The name the backend files the clock's changes and camera detections under
# (dispatch.state.SYSTEM).
SYSTEM = "system"

ROLE_TEXT: dict[Any, str] = {
    "commander": QT_TRANSLATE_NOOP("Desk", "指挥长"),
    "dispatcher": QT_TRANSLATE_NOOP("Desk", "调度员"),
    "street": QT_TRANSLATE_NOOP("Desk", "街道分中心"),
    "community": QT_TRANSLATE_NOOP("Desk", "社区工作站"),
    "admin": QT_TRANSLATE_NOOP("Desk", "管理员"),
    "wall": QT_TRANSLATE_NOOP("Desk", "大屏"),
    "gateway": QT_TRANSLATE_NOOP("Desk", "接入网关"),
}

# The key each op's button answers to (a letter when the desk has the focus).
SHORTCUTS: dict[str, str] = {
    "accept": "A",
    "reject": "R",
    "dispatch": "D",
    "acknowledge": "K",
    "start": "S",
    "handled": "H",
    "verify": "V",
    "close": "C",
    "evaluate": "P",
    "return_case": "B",
    "request_extension": "E",
    "decide_extension": "Shift+E",
    "request_hold": "G",
    "decide_hold": "Shift+G",
    "release_hold": "Shift+R",
    "escalate": "U",
    "supervise": "Shift+S",
    "consult": "Shift+C",
    "decide": "Shift+D",
    "end_consult": "Shift+X",
    "instruct": "I",
    "reopen": "O",
    "classify": "L",
}

DANGER = frozenset({"reject", "return_case", "escalate"})


def tr(source: str) -> str:
    """A "Desk" string in the installed language."""
    return QCoreApplication.translate("Desk", source)


def op_text(op: str) -> str:
    """An op's name in the installed language."""
    source = OP_TEXT.get(op)
    return QCoreApplication.translate("Desk", source) if source is not None else op


def person_text(replica: Replica, name: str) -> str:
    """Who did something, as people say it: a user by their display name, 系统 for the
    clock, anyone else (the simulator's actors, units) by the name given."""
    return tr("系统") if name == SYSTEM else replica.person(name)


def role_text(role: str) -> str:
    """A role's name in the installed language."""
    source = ROLE_TEXT.get(role)
    return QCoreApplication.translate("Desk", source) if source is not None else role


def tab_text(tab: str) -> str:
    """A to-do tab's name in the installed language."""
    return tr(TAB_TEXT[tab]) if tab in TAB_TEXT else tab


def status_text(status: str) -> str:
    """A case status in the installed language."""
    return text(STATUS_TEXT, status)


def refusal_text(refusal: Refusal) -> str:
    """What the desk says when the backend refused an action."""
    if refusal.kind == "taken":
        return (
            tr("该案件已由%1%2（现为%3），操作未执行")
            .replace("%1", refusal.by)
            .replace("%2", op_text(refusal.action))
            .replace("%3", status_text(refusal.status))
        )
    if refusal.kind == "moved_on":
        return tr("该案件状态已变为%1，操作未执行").replace("%1", status_text(refusal.status))
    if refusal.kind == "gone":
        return tr("该案件不存在或不在您的辖区内")
    if refusal.kind == "forbidden":
        return tr("您的角色或辖区无权执行此操作（已记录）")
    if refusal.kind == "same_person":
        return tr("按职责分离要求，此操作须由他人完成（处置人不能核查或结案，申请人不能自批）")
    if refusal.kind == "invalid":
        return tr("填写的内容未通过检查：%1").replace("%1", refusal.detail)
    if refusal.kind == "busy":
        return tr("服务暂时繁忙，操作未执行，请稍后重试")
    return tr("操作未执行：%1").replace("%1", refusal.detail)


def due_text(due: float | None, now: float) -> str:
    """Time to a deadline that says which way it runs: 剩 3时20分, or 超时1时5分 past it."""
    if due is None:
        return ""
    if due < now:
        return countdown(due, now)  # already "超时…"
    return tr("剩 %1").replace("%1", countdown(due, now))


_OP_PREFIX = re.compile(r"^[a-z_]+: ")


def note_text(text: str) -> str:
    """A decision or note without the op name the backend files it under."""
    return _OP_PREFIX.sub("", text)
