"""Rules for what an owner sends from the page besides a progress report: the name an evidence
file is shown under, when 办结申请 may go ahead, and what a 延期申请 must say.

Rule for closing (办结申请): when the milestone lists evidence (``evidence`` in the catalogue),
at least one evidence file must have been uploaded for the item — since the item was last
returned (退回), if it was: a return asks for something new. A milestone that lists no evidence
needs no file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from domain.rules.glossary import zh_date

MAX_NAME_CHARS = 80
MAX_REASON_CHARS = 1000
MAX_EXTENSION = timedelta(days=366)
"""An extension asks for at most a year more: a longer change is a catalogue edit."""
_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
)


def shown_name(name: str | None) -> str:
    """The name an uploaded file is listed under: the last part of what the device sent, without
    control characters, at most :data:`MAX_NAME_CHARS` characters. Never used as a path."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C")
    cleaned = " ".join(cleaned.split()).strip(". ")
    if len(cleaned) > MAX_NAME_CHARS:
        stem, dot, ext = cleaned.rpartition(".")
        keep = MAX_NAME_CHARS - len(ext) - 2 if dot and len(ext) <= 8 else MAX_NAME_CHARS - 1
        cleaned = f"{stem[:keep]}…{dot}{ext}" if dot and len(ext) <= 8 else cleaned[:keep] + "…"
    return cleaned or "未命名文件"


def closing_refusal(evidence_required: list[str], files: int, *, since_return: bool) -> str | None:
    """Why 办结申请 cannot go ahead yet (Chinese), or None: the rule of the module docstring."""
    if not evidence_required or files > 0:
        return None
    wanted = "、".join(evidence_required)
    when = "退回后须重新上传" if since_return else "须先上传"
    return f"本节点办结须附佐证材料（{wanted}）：{when}至少一个文件，再申请办结"


@dataclass(frozen=True)
class ExtensionAsk:
    """A valid 延期申请: the date asked for and why."""

    proposed: date
    reason: str


def parse_date_text(text: str) -> date | None:
    """A date typed as 2022-01-31, 2022/1/31, 2022.1.31 or 2022年1月31日; None if it is not one."""
    for form in _DATE_FORMS:
        if (m := form.fullmatch(text.strip())) is not None:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def extension_ask(
    proposed: str, reason: str, *, current_due: date, today: date
) -> tuple[ExtensionAsk | None, dict[str, str]]:
    """Read the 延期申请 form: (the request, {}) or (None, {field: Chinese message}). The date
    must be after the current due date, not before ``today``, and at most a year after the
    later of the two."""
    errors: dict[str, str] = {}
    day = None
    if not proposed.strip():
        errors["proposed"] = "请填写拟延期至的日期"
    elif (day := parse_date_text(proposed)) is None:
        errors["proposed"] = "不是有效的日期，请按 2022-01-31 的格式填写"
    elif day <= current_due:
        errors["proposed"] = f"拟延期日期应晚于当前完成时限（{zh_date(current_due)}）"
    elif day < today:
        errors["proposed"] = f"拟延期日期已经过去，请填写 {zh_date(today)} 或以后的日期"
    elif day > max(current_due, today) + MAX_EXTENSION:
        errors["proposed"] = "一次延期不能超过一年；更长的调整请联系督办协调单位"
    text = reason.strip()
    if not text:
        errors["reason"] = "请写明延期原因（例如资金、天气、前置工作未完成）"
    elif len(text) > MAX_REASON_CHARS:
        errors["reason"] = f"延期原因过长（{len(text)} 字），请控制在 {MAX_REASON_CHARS} 字以内"
    if errors or day is None:
        return None, errors
    return ExtensionAsk(day, text), {}
