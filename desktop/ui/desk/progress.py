"""A command's way through the outbox, as its form shows it."""

from __future__ import annotations

from desktop.core.outbox import Pending
from desktop.core.refusals import explain
from desktop.ui.desk.texts import refusal_text, tr
from widgets.action_form import ActionForm


def show_progress(form: ActionForm, entry: Pending) -> bool:
    """Show an unanswered command's state on its form (正在提交…, or 待发送 while the link is
    down); whether it was unanswered."""
    if entry.state == "sending":
        form.set_pending(tr("正在提交…"))
    elif entry.state == "queued":
        form.set_pending(tr("待发送：连接中断，恢复后自动发送"))
    else:
        return False
    return True


def refused_text(entry: Pending, user: str) -> str:
    """Why a command not about a case in hand was refused, in plain words."""
    return refusal_text(explain(entry.code, entry.message, seen=None, now=None, last=None, me=user))
