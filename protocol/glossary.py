"""The domain's words in Chinese, as the standards and the centre's forms use them.

For what the backend writes for people to read (exports, reports). The desktop's tables
(desktop/ui/models.py) are the same words marked for translation; a test keeps them equal.
"""

from __future__ import annotations

STATUS_NAMES: dict[str, str] = {
    "reported": "待受理",
    "accepted": "已受理",
    "rejected": "不予受理",
    "dispatched": "已派遣",
    "handling": "处置中",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "evaluated": "已评价",
}
SOURCE_NAMES: dict[str, str] = {
    "hotline": "12345",
    "patrol": "巡查",
    "citizen": "随手拍",
    "camera": "视频",
    "sensor": "感知",
    "assigned": "交办",
}
PRIORITY_NAMES: dict[int, str] = {1: "特急", 2: "紧急", 3: "一般", 4: "较低"}
LEVEL_NAMES: dict[str, str] = {
    "grid": "网格",
    "community": "社区",
    "street": "街道",
    "district": "区级",
}
# What the centre tells the 12345 platform about a work order (its feedback kinds).
FEEDBACK_NAMES: dict[str, str] = {
    "sign": "签收",
    "progress": "办理中",
    "done": "办结",
    "return": "退回",
    "extend": "延期",
    "reopen": "重办",
}
