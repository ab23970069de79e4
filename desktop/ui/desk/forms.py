"""Each action's small form: its fields (with what the case suggests) and the op's args.

Validation of lengths, ranges and required fields is the form widget's; the schema check is
the backend's (protocol/commands.py), which refuses what slips through with bad_args.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.core.actions import dispatch_units, handle_limit
from desktop.core.replica import Replica
from desktop.ui.desk.texts import op_text, person_text, tr
from protocol.entities import Event
from widgets.action_form import FieldSpec

HOLD_DEFAULT_DAYS = 30


@dataclass(frozen=True, slots=True)
class FormSpec:
    """What an action's form asks."""

    title: str
    fields: list[FieldSpec]
    submit: str
    hint: str = ""


def _note(label: str = "", required: bool = False) -> FieldSpec:
    return FieldSpec(
        "note",
        label or tr("说明"),
        "note",
        required=required,
        placeholder=tr("可选：写进案件记录") if not required else "",
    )


def _reason(label: str = "") -> FieldSpec:
    return FieldSpec("reason", label or tr("原因"), "text", required=True)


def form_for(op: str, event: Event, replica: Replica, now: float) -> FormSpec:
    """The form of `op` on `event`."""
    title = f"{op_text(op)} · {event.code}"
    submit = op_text(op)
    if op == "reject":
        return FormSpec(title, [_reason(tr("不予受理原因"))], submit)
    if op == "dispatch":
        units = dispatch_units(replica.units, event)
        choices = [(u.value, u.name + (tr("（建议）") if u.suggested else "")) for u in units]
        default = event.assignee or (units[0].value if units else "")
        return FormSpec(
            title,
            [
                FieldSpec(
                    "assignee",
                    tr("主办单位"),
                    "choice",
                    required=True,
                    choices=choices,
                    default=default,
                ),
                FieldSpec("assist", tr("协办单位"), "multi", choices=choices[1:]),
                _note(),
            ],
            submit,
            _limit_hint(replica, event),
        )
    if op == "classify":
        categories = replica.units.categories if replica.units is not None else []
        choices = [(c.code, f"{c.code} {c.name}") for c in categories]
        waiting = event.intake.triage if event.intake is not None else ""
        return FormSpec(
            title,
            [
                FieldSpec("category", tr("类别"), "choice", required=True, choices=choices),
                _note(),
            ],
            submit,
            tr("12345 诉求类型：%1").replace("%1", waiting) if waiting else "",
        )
    if op in ("return_case", "escalate", "reopen"):
        return FormSpec(title, [_reason()], submit)
    if op == "verify":
        return FormSpec(
            title,
            [
                FieldSpec(
                    "passed",
                    tr("核查结果"),
                    "choice",
                    required=True,
                    choices=[("yes", tr("通过")), ("no", tr("不通过，返工"))],
                    default="yes",
                ),
                _note(tr("核查意见")),
            ],
            submit,
        )
    if op == "evaluate":
        return FormSpec(
            title,
            [FieldSpec("score", tr("满意度（1–5）"), "score", required=True, default=5.0), _note()],
            submit,
            tr("1–2 分（不满意）将重新派遣并督办"),
        )
    if op == "request_extension":
        return FormSpec(
            title,
            [
                FieldSpec("hours", tr("延长小时数"), "hours", required=True, default=24.0),
                _reason(tr("延期理由")),
            ],
            submit,
            tr("须在时限届满前申请，由上级审批"),
        )
    if op in ("decide_extension", "decide_hold"):
        request = event.extension if op == "decide_extension" else event.hold
        asked = ""
        if request is not None:
            asked = (
                tr("%1 申请：%2")
                .replace("%1", person_text(replica, request.requested_by))
                .replace("%2", request.reason)
            )
        return FormSpec(
            title,
            [
                FieldSpec(
                    "approve",
                    tr("审批结果"),
                    "choice",
                    required=True,
                    choices=[("yes", tr("批准")), ("no", tr("不批准"))],
                    default="yes",
                ),
                _note(tr("审批意见")),
            ],
            submit,
            asked,
        )
    if op == "request_hold":
        return FormSpec(
            title,
            [
                _reason(tr("挂账原因")),
                FieldSpec(
                    "review_at",
                    tr("复查日期"),
                    "datetime",
                    required=True,
                    default=now + HOLD_DEFAULT_DAYS * 86400,
                ),
            ],
            submit,
            tr("批准后案件计时暂停，至复查日期或解除时恢复"),
        )
    if op in ("decide", "instruct"):
        return FormSpec(
            title, [FieldSpec("text", tr("内容"), "note", required=True, max_length=200)], submit
        )
    return FormSpec(title, [_note()], submit)


def _limit_hint(replica: Replica, event: Event) -> str:
    limit, natural = handle_limit(replica.units, event)
    if limit is None:
        return ""
    amount = f"{limit.amount:g}"
    if limit.unit == "day":
        unit = tr("个自然日") if natural else tr("个工作日")
    else:
        unit = tr("小时（自然时间）") if natural else tr("个工作小时")
    return tr("处置时限：派遣后 %1%2").replace("%1", amount).replace("%2", unit)


def args_for(op: str, event: Event, values: dict[str, Any]) -> dict[str, Any]:
    """The op's args from the form's values."""
    args: dict[str, Any] = {"event": event.id}
    note = str(values.get("note", "") or "").strip()
    if op == "dispatch":
        args["assignee"] = values["assignee"]
        assist = [u for u in values.get("assist", []) if u != values["assignee"]]
        if assist:
            args["assist"] = assist
    elif op == "classify":
        args["category"] = values["category"]
    elif op == "verify":
        args["passed"] = values.get("passed") == "yes"
    elif op == "evaluate":
        args["score"] = int(values["score"])
    elif op == "request_extension":
        args["hours"] = float(values["hours"])
        args["reason"] = values["reason"]
    elif op in ("decide_extension", "decide_hold"):
        args["approve"] = values.get("approve") == "yes"
    elif op == "request_hold":
        args["reason"] = values["reason"]
        args["review_at"] = float(values["review_at"])
    elif op in ("reject", "return_case", "escalate", "reopen"):
        args["reason"] = values["reason"]
    elif op in ("decide", "instruct"):
        args["text"] = values["text"]
        return args
    if note and op not in (
        "reject",
        "return_case",
        "escalate",
        "reopen",
        "request_extension",
        "request_hold",
    ):
        args["note"] = note
    return args
