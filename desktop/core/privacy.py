"""What a screen that visitors see may show of people: phone numbers and reporters' names
masked (138****5678, 王*). Qt-free; the wall masks everything it shows of people, the desk
shows the full text to the roles that call people back (`reporter_for`).
"""

from __future__ import annotations

import re

from protocol.entities import Role

MASK = "****"
# A phone number in a text: a mobile (13812345678, 138-1234-5678, 138 1234 5678) or a number
# with its area code (0556-5551234), optionally after +86; not inside a longer run of digits
# or letters (a case code E20250101-000123, a date 2025-01-01 are no phone numbers).
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+-])(?:(?:\+|00)?86[ -]?)?"
    r"(?:1[3-9]\d(?:[ -]?\d{4}){2}|0\d{2,3}[ -]?\d{7,8})"
    r"(?![0-9A-Za-z-])"
)
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff·]+")
_LATIN_NAME = re.compile(r"\b[A-Za-z][A-Za-z'.-]*\b")
# Words that say who someone is, not which person, and the labels of a number: kept as they
# are (longer first: the first that starts a run is taken).
KEPT_WORDS = (
    "联系电话",
    "联系方式",
    "电话",
    "手机",
    "随手拍用户",
    "热心市民",
    "网格员",
    "网格长",
    "楼栋长",
    "信息员",
    "志愿者",
    "巡查员",
    "市民",
    "群众",
    "居民",
    "村民",
    "业主",
    "匿名",
    "来电人",
    "反映人",
)
# Forms of address that leave only the surname: 张先生 says no more than 张*.
HONORIFICS = ("先生", "女士", "小姐", "师傅", "老师", "阿姨", "大爷", "大姐", "同志")
# The common two-character surnames (欧阳娜娜 → 欧阳*, not 欧*).
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木".split()  # noqa: SIM905
)
# Roles at a desk who call a reporter back: they see the reporter in full.
REPORTER_ROLES: frozenset[Role] = frozenset({"commander", "dispatcher", "street", "community"})


def mask_phone(phone: str) -> str:
    """A phone number with only its first three and last four digits (138****5678); a shorter
    one (under 10 digits) keeps only its last two; "" stays ""."""
    if MASK in phone:
        return phone  # masked already (the simulator's hotline callers are)
    digits = re.sub(r"\D", "", phone)
    if digits.startswith(("86", "0086")) and len(digits) in (13, 15):
        digits = digits[-11:]  # +86 138…: the number is what follows
    if not digits:
        return phone
    if len(digits) >= 10:
        return digits[:3] + MASK + digits[-4:]
    return MASK + digits[-2:]


def mask_phones(text: str) -> str:
    """Every phone number in a text masked (the rest unchanged)."""
    return _PHONE.sub(lambda m: mask_phone(m.group()), text) if text else text


def mask_name(name: str) -> str:
    """A person's name as its surname and one star (王小明 → 王*, 欧阳娜娜 → 欧阳*, 张先生
    unchanged, John Smith → J* S*)."""
    name = name.strip()
    if not name:
        return name
    if _CJK_RUN.fullmatch(name):
        return _mask_cjk(name)
    return _LATIN_NAME.sub(lambda m: m.group()[0] + "*", name)


def _mask_cjk(run: str) -> str:
    for word in KEPT_WORDS:
        if run.startswith(word):
            rest = run[len(word) :]
            return word + (_mask_cjk(rest) if rest else "")
    for honorific in HONORIFICS:
        if run.endswith(honorific) and len(run) > len(honorific):
            return _surname_only(run[: -len(honorific)]) + honorific
    return _surname_only(run)


def _surname_only(name: str) -> str:
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    return name if len(name) <= len(surname) else surname + "*"


def mask_person(text: str) -> str:
    """A free text naming a person (a reporter: "王小明 13812345678", "网格员 王小明",
    "张女士 139****1234"): phone numbers and names masked, role words and pseudonyms with
    digits (随手拍用户1234) kept."""
    if not text:
        return text
    text = mask_phones(text)
    text = _CJK_RUN.sub(lambda m: _mask_cjk(m.group()), text)
    # Latin words: names unless they carry digits (a user id) or are the mask itself.
    return re.sub(r"(?<![\w*])[A-Za-z][A-Za-z'.-]*(?![\w*])", lambda m: m.group()[0] + "*", text)


def reporter_for(role: Role | None, reporter: str) -> str:
    """A case's reporter as this role sees it: in full for those who call people back, masked
    for everyone else (a wall, an admin)."""
    return reporter if role in REPORTER_ROLES else mask_person(reporter)
