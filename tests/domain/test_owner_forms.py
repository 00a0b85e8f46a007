"""The rules behind the owner's other forms: the name a file is shown under, when 办结申请
may go ahead, and what a 延期申请 must say."""

from __future__ import annotations

from datetime import date

import pytest

from domain.rules.owner_forms import (
    MAX_NAME_CHARS,
    closing_refusal,
    extension_ask,
    parse_date_text,
    shown_name,
)

DUE = date(2021, 12, 30)
TODAY = date(2021, 12, 27)


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("公示照片.jpg", "公示照片.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\村委会\\Desktop\\会议记录.docx", "会议记录.docx"),
        ("名单\u0000\u202e.xlsx", "名单.xlsx"),
        ("  空格  很多 .pdf ", "空格 很多 .pdf"),
        ("..", "未命名文件"),
        ("", "未命名文件"),
        (None, "未命名文件"),
    ],
)
def test_a_file_is_shown_under_the_last_part_of_its_name_cleaned(
    sent: str | None, shown: str
) -> None:
    """Folders, control and direction characters and outer blanks go; nothing is left a path."""
    assert shown_name(sent) == shown


def test_a_long_name_keeps_its_extension() -> None:
    """A name past the limit is cut in the middle of its stem, the extension kept."""
    name = shown_name("村" * 200 + ".pdf")
    assert len(name) <= MAX_NAME_CHARS and name.endswith("….pdf")


def test_closing_waits_for_a_file_only_when_evidence_is_listed() -> None:
    """No listed evidence: no file needed; listed: one file since the last return."""
    assert closing_refusal([], 0, since_return=False) is None
    assert closing_refusal(["会议记录"], 1, since_return=True) is None
    refusal = closing_refusal(["选址公示照片", "会议记录"], 0, since_return=False)
    assert refusal is not None and "选址公示照片、会议记录" in refusal and "须先上传" in refusal
    again = closing_refusal(["会议记录"], 0, since_return=True)
    assert again is not None and "退回后须重新上传" in again


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2022-01-31", date(2022, 1, 31)),
        ("2022/1/5", date(2022, 1, 5)),
        ("2022.1.5", date(2022, 1, 5)),
        ("2022年1月5日", date(2022, 1, 5)),
        (" 2022年1月5 ", date(2022, 1, 5)),
        ("2022-02-30", None),
        ("明年一月", None),
        ("20220131", None),
    ],
)
def test_dates_are_read_as_people_type_them(text: str, day: date | None) -> None:
    assert parse_date_text(text) == day


def test_an_extension_needs_a_later_date_within_a_year_and_a_reason() -> None:
    """Each mistake is named beside its field; a good request is the date and the reason."""
    ask, errors = extension_ask("2022-01-28", " 资金未到位 ", current_due=DUE, today=TODAY)
    assert errors == {} and ask is not None
    assert (ask.proposed, ask.reason) == (date(2022, 1, 28), "资金未到位")
    _, errors = extension_ask("2021-12-30", "", current_due=DUE, today=TODAY)
    assert set(errors) == {"proposed", "reason"} and "2021年12月30日" in errors["proposed"]
    _, errors = extension_ask("2023-01-01", "x" * 1001, current_due=DUE, today=TODAY)
    assert "一年" in errors["proposed"] and "1001 字" in errors["reason"]


def test_an_overdue_item_may_ask_for_a_date_from_today_on() -> None:
    """Long overdue: a date already past is refused; a year counts from today."""
    long_ago = date(2021, 9, 30)
    _, errors = extension_ask("2021-11-30", "资金未到位", current_due=long_ago, today=TODAY)
    assert "已经过去" in errors["proposed"] and "2021年12月27日" in errors["proposed"]
    ask, errors = extension_ask("2022-12-01", "资金未到位", current_due=long_ago, today=TODAY)
    assert errors == {} and ask is not None
