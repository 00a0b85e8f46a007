"""The carry-over draft's text is a valid catalogue file whatever the old plan's words hold:
quotes, colons, hashes and line breaks in titles stay data, and in comments stay on one line."""

from __future__ import annotations

from datetime import date

import yaml

from domain.adapters.carry_over_draft import draft_text, one_line
from domain.rules.carry_over import CarryOver, OpenMilestone, OpenTask, Standing

HOSTILE = 'a "quoted": title # not a comment\nsecond line \\ end'


def carry(problem: str) -> CarryOver:
    standing = Standing(
        item_id=7,
        unit="u1",
        unit_name="甲村\n（新）",
        due=date(2024, 6, 28),
        state="blocked",
        percent=30,
        reported_on=date(2024, 6, 20),
        note=None,
        problem=problem,
        reason="资金: 未到位 # 见附件",
    )
    milestone = OpenMilestone(
        code="M1",
        title=HOSTILE,
        deliverable="",
        evidence=["照片: 现场"],
        due=date(2024, 6, 28),
        rrule=None,
        owner="u1",
        fanned_out=False,
        items=[standing],
        all_units=1,
        depends_on=[],
    )
    task = OpenTask(
        number=4,
        code="T04",
        title=HOSTILE,
        description="",
        lead="u1",
        responsibility="plan",
        cooperating=[],
        milestones=[milestone],
    )
    return CarryOver(
        plan_id="old",
        title="旧规划",
        timezone="Asia/Shanghai",
        period_start=date(2021, 1, 1),
        period_end=date(2025, 12, 31),
        as_of=date(2025, 12, 31),
        tasks=[task],
        unit_names={"u1": "甲村\n（新）"},
    )


def test_hostile_words_stay_data_and_comments_stay_on_their_line() -> None:
    """Titles read back exactly; the problem's line break and hash stay inside the comment."""
    text = draft_text(carry("第一行\n# 第二行: x"), date(2026, 1, 5))
    data = yaml.safe_load(text)
    assert data == {
        "tasks": [
            {
                "number": 4,
                "id": "JZ-T04",
                "title": HOSTILE,
                "lead": "u1",
                "milestones": [
                    {
                        "id": "JZ-M1",
                        "title": HOSTILE,
                        "evidence": ["照片: 现场"],
                        "due": "待填",
                        "owner": "u1",
                        "carried_from": {"plan": "old", "milestone": "M1"},
                        "proposed": True,
                    }
                ],
            }
        ]
    }
    owner = next(line for line in text.splitlines() if line.strip().startswith("owner:"))
    assert owner.endswith(
        "# 甲村 （新）：2024年6月28日到期，受阻 30%，最近报送 2024年6月20日；"
        "原因：资金: 未到位 # 见附件；问题：第一行 # 第二行: x"
    )


def test_a_comment_is_cut_to_sixty_characters() -> None:
    """A long text ends in … at 60 characters; spaces and line breaks collapse to one space."""
    assert one_line("甲" * 61) == "甲" * 59 + "…"
    assert one_line("  a\n\tb  ") == "a b"
    assert one_line("甲" * 60) == "甲" * 60
