"""The assessment rule (考评) as a specification: hand-computed scores, explanations that add up,
the same facts always giving the same score, and the rules file read with line numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.assessment import DEFAULT_ASSESSMENT, AssessmentRules, load_assessment
from config.errors import InputError
from domain.rules.assessment import (
    CycleFact,
    EventFact,
    ItemFact,
    UnitFacts,
    UnitScore,
    allocate,
    assessed_unit,
    overdue_workdays,
    ranked,
    score,
)
from domain.rules.assessment_periods import quarter, year
from domain.rules.objections import Excuse, ObjectionRefusedError, check_filing, excuse

RULES = load_assessment()
D = Decimal


def item(
    n: int,
    due: date,
    done: date | None,
    *,
    weight: str = "1",
    carried: bool = False,
    overdue: int = 0,
) -> ItemFact:
    return ItemFact(n, "u", "单位", f"M{n}", f"事项{n}", D(weight), due, done, carried, overdue)


def lines(s: UnitScore) -> dict[str, Decimal]:
    return {line.part: line.points for line in s.lines}


def test_periods() -> None:
    """A quarter and a year by their first and last days; anything else is refused in Chinese."""
    q4 = quarter("2021-q4")
    assert (q4.key, q4.start, q4.end, q4.label) == (
        "2021-Q4",
        date(2021, 10, 1),
        date(2021, 12, 31),
        "2021年第四季度",
    )
    assert (quarter("2022-Q1").start, quarter("2022-Q1").end) == (
        date(2022, 1, 1),
        date(2022, 3, 31),
    )
    assert (year("2021").end, year("2021").label) == (date(2021, 12, 31), "2021年度")
    assert quarter("2021Q4") == q4  # as the briefing's --quarter reads it
    for bad in ("2021-Q5", "2021-Q0", "21-Q1"):
        with pytest.raises(ValueError, match="不是季度"):
            quarter(bad)
    with pytest.raises(ValueError, match="不是年份"):
        year("二〇二一")


def test_overdue_workdays_within_the_period() -> None:
    """Working days past due and not done, counted only inside the period; the late day of
    completion counts, a day on or before the due date does not."""
    # period: ordinals 101..160 (before = 100); due at 90, still open: the whole period
    assert overdue_workdays(due=90, done=None, before=100, last=160) == 60
    # due inside (120), done at 125: 121..125
    assert overdue_workdays(due=120, done=125, before=100, last=160) == 5
    # done on the due date or earlier: nothing
    assert overdue_workdays(due=120, done=120, before=100, last=160) == 0
    assert overdue_workdays(due=120, done=110, before=100, last=160) == 0
    # done before the period began: nothing in this period
    assert overdue_workdays(due=80, done=95, before=100, last=160) == 0


def test_townships_carry_their_villages() -> None:
    """A village or community counts for its township; a department, a township and a village
    without a township count for themselves."""
    assert assessed_unit("village", "v1", "t1", "township") == "t1"
    assert assessed_unit("community", "c1", "t1", "township") == "t1"
    assert assessed_unit("department", "zzb", "xzf", "department") == "zzb"
    assert assessed_unit("township", "t1", "xzf", "department") == "t1"
    assert assessed_unit("village", "v9", None, None) == "v9"


def test_hand_computed_score() -> None:
    """Default rules (60 / 20 / 20; late credit 0.5; 0.2 a working day overdue up to 10; 1 a
    return up to 5; 2 a late extension up to 6; early extensions free).

    Items: #1 weight 2 on time; #2 weight 1 done late, 7 working days overdue; #3 weight 1
    carried over, never done, 40 working days overdue.
      completion = 60 × (2 + 0.5 + 0) ÷ 4 = 37.5 (#1 30.0, #2 7.5, #3 0)
    Reports: 6 owed, 5 on time: 20 × 5 ÷ 6 = 16.666… → 16.7
    Conduct 20: overdue (7 + 40) × 0.2 = 9.4; one return −1; one late extension −2; one early
    extension 0 → 20 − 12.4 = 7.6
    Score 37.5 + 16.7 + 7.6 = 61.8.
    """
    facts = UnitFacts(
        "u",
        "单位",
        "department",
        items=(
            item(1, date(2021, 11, 30), date(2021, 11, 29), weight="2"),
            item(2, date(2021, 12, 1), date(2021, 12, 10), overdue=7),
            item(3, date(2021, 9, 30), None, carried=True, overdue=40),
        ),
        events=(
            EventFact("returned", 2, "单位", "M2", "事项2", date(2021, 12, 3), "缺少佐证"),
            EventFact(
                "extension",
                4,
                "单位",
                "M4",
                "事项4",
                date(2021, 12, 20),
                old_due=date(2021, 12, 15),
                new_due=date(2022, 1, 14),
            ),
            EventFact(
                "extension",
                5,
                "单位",
                "M5",
                "事项5",
                date(2021, 12, 15),
                old_due=date(2021, 12, 15),
                new_due=date(2022, 1, 14),
            ),
        ),
        owed=6,
        on_time=5,
    )
    s = score(RULES, facts)
    assert lines(s) == {
        "completion": D("37.5"),
        "timeliness": D("16.7"),
        "conduct": D("20.0"),
        "overdue": D("-9.4"),
        "returned": D("-1.0"),
        "late_extension": D("-2.0"),
        "early_extension": D("0.0"),
    }
    assert s.score == D("61.8")
    completion = s.lines[0]
    assert [d.points for d in completion.details] == [D("0.0"), D("30.0"), D("7.5")]  # by due
    assert s.assessed


def test_caps_and_the_floor() -> None:
    """Each deduction stops at its cap; together they never take more than the conduct base."""
    rules = AssessmentRules.model_validate(
        {
            "completion": {"points": 60},
            "timeliness": {"points": 20},
            "conduct": {
                "points": 20,
                "overdue": {"per_workday": 1, "cap": 15},
                "returned": {"each": 3, "cap": 9},
                "late_extension": {"each": 2, "cap": 6},
            },
        }
    )
    facts = UnitFacts(
        "u",
        "单位",
        "township",
        items=(item(1, date(2021, 10, 8), None, overdue=50),),
        events=tuple(
            EventFact("returned", 1, "单位", "M1", "事项1", date(2021, 10, d)) for d in (11, 12)
        ),
    )
    s = score(rules, facts)
    # overdue 50 × 1 → cap 15; returns 2 × 3 = 6; 21 > 20: 1 given back
    assert lines(s)["overdue"] == D("-15.0")
    assert lines(s)["returned"] == D("-6.0")
    assert lines(s)["floor"] == D("1.0")
    assert s.score == D("0.0") + D("20.0") + D("0.0")  # nothing done; nothing owed: 20


def test_nothing_to_assess_scores_full_but_is_not_ranked() -> None:
    """No item, no report owed, no event: full marks on paper, and left out of the ranking."""
    idle = score(RULES, UnitFacts("xzf", "县政府", "department"))
    busy = score(RULES, UnitFacts("zzb", "组织部", "department", owed=2, on_time=1))
    assert idle.score == D("100.0") and not idle.assessed
    assert [(r, s.unit) for r, s in ranked([idle, busy])] == [(1, "zzb")]


def test_ranking_shares_ranks_on_a_tie() -> None:
    """Best first; equal scores share a rank and the next rank skips (1, 1, 3)."""

    def unit(code: str, owed: int, on_time: int) -> UnitScore:
        return score(RULES, UnitFacts(code, code, "department", owed=owed, on_time=on_time))

    order = ranked([unit("b", 2, 1), unit("a", 2, 1), unit("c", 4, 1), unit("d", 1, 1)])
    assert [(r, s.unit, str(s.score)) for r, s in order] == [
        (1, "d", "100.0"),
        (2, "a", "90.0"),
        (2, "b", "90.0"),
        (4, "c", "85.0"),
    ]


def test_largest_remainder() -> None:
    """Whole tenths first, the odd ones to the largest fractions, earlier first on a tie."""
    third = Fraction(200, 3)  # 66.67 tenths each, 200 in all
    assert allocate(200, [third, third, third]) == [67, 67, 66]
    assert allocate(75, [Fraction(75), Fraction(0)]) == [75, 0]


days = st.dates(min_value=date(2021, 1, 1), max_value=date(2021, 12, 31))
facts_strategy = st.builds(
    UnitFacts,
    unit=st.just("u"),
    name=st.just("单位"),
    kind=st.sampled_from(["department", "township"]),
    items=st.lists(
        st.builds(
            ItemFact,
            item_id=st.integers(1, 10_000),
            unit=st.just("u"),
            unit_name=st.just("单位"),
            milestone=st.just("M"),
            title=st.just("事项"),
            weight=st.decimals(min_value=D("0.1"), max_value=D("1000"), places=1),
            due=days,
            done_on=st.none() | days,
            carried=st.booleans(),
            overdue_workdays=st.integers(0, 250),
        ),
        max_size=30,
        unique_by=lambda i: i.item_id,
    ).map(tuple),
    events=st.lists(
        st.builds(
            EventFact,
            kind=st.sampled_from(["returned", "extension"]),
            item_id=st.integers(1, 10_000),
            unit_name=st.just("单位"),
            milestone=st.just("M"),
            title=st.just("事项"),
            day=days,
            old_due=days,
            new_due=days.map(lambda d: d + timedelta(days=30)),
        ),
        max_size=10,
    ).map(tuple),
    owed=st.integers(0, 60),
    on_time=st.integers(0, 60),
).filter(lambda f: f.on_time <= f.owed)


@settings(max_examples=200, deadline=None)
@given(facts_strategy)
def test_explanations_add_up(facts: UnitFacts) -> None:
    """For any facts: the lines sum to the score exactly, the score is within 0–100 in tenths,
    completion's items sum to their line, an uncapped deduction's items to theirs, and the same
    facts (in any order) give the same score."""
    s = score(RULES, facts)
    assert sum(line.points for line in s.lines) == s.score
    assert D(0) <= s.score <= D(100)
    assert s.score == s.score.quantize(D("0.1"))
    completion = s.lines[0]
    if facts.items:
        assert sum(d.points or 0 for d in completion.details) == completion.points
    for line in s.lines[3:]:
        if line.details and "为限" not in line.basis:
            assert sum(d.points or 0 for d in line.details) == line.points
    shuffled = UnitFacts(
        facts.unit,
        facts.name,
        facts.kind,
        items=tuple(reversed(facts.items)),
        events=tuple(reversed(facts.events)),
        owed=facts.owed,
        on_time=facts.on_time,
    )
    assert score(RULES, shuffled) == score(RULES, facts)


def test_cycles_explain_the_timeliness_line() -> None:
    """The timeliness line lists each unit not on time every cycle, with the cycles late and
    missed by their days and due days."""
    cycles = (
        CycleFact("甲村", date(2021, 10, 1), date(2021, 10, 31), date(2021, 11, 1), True, True),
        CycleFact("甲村", date(2021, 11, 1), date(2021, 11, 30), date(2021, 11, 30), False, True),
        CycleFact("乙村", date(2021, 11, 1), date(2021, 11, 30), date(2021, 11, 30), True, True),
        CycleFact("乙村", date(2021, 12, 1), date(2021, 12, 31), date(2021, 12, 31), False, False),
    )
    s = score(RULES, UnitFacts("t", "镇", "township", owed=4, on_time=2, cycles=cycles))
    timeliness = s.lines[1]
    assert timeliness.points == D("10.0")
    assert [d.text for d in timeliness.details] == [
        "乙村：应报送 2 次，按时 1 次；未报送：12月1日至12月31日（12月31日截止）",
        "甲村：应报送 2 次，按时 1 次；逾期报送：11月1日至11月30日（11月30日截止）",
    ]


def test_a_cycle_across_the_new_year_is_named_with_its_years() -> None:
    """A weekly cycle from one year into the next (a year's first cycle, or its last) says the
    years: 12月28日至1月3日 alone could be either end of the year."""
    cycles = (
        CycleFact("丙村", date(2020, 12, 28), date(2021, 1, 3), date(2021, 1, 4), False, False),
        CycleFact("丙村", date(2021, 1, 4), date(2021, 1, 10), date(2021, 1, 8), True, True),
    )
    s = score(RULES, UnitFacts("t", "镇", "township", owed=2, on_time=1, cycles=cycles))
    assert [d.text for d in s.lines[1].details] == [
        "丙村：应报送 2 次，按时 1 次；未报送：2020年12月28日至2021年1月3日（2021年1月4日截止）"
    ]


def test_shipped_rules_add_up_to_a_hundred() -> None:
    """The default follows common county practice: 60 on-time completion, 20 timely reporting,
    20 conduct."""
    r = load_assessment(DEFAULT_ASSESSMENT)
    assert (r.completion.points, r.timeliness.points, r.conduct.points) == (D(60), D(20), D(20))


GOOD = """\
completion:
  points: 60
  late_credit: 0.5
timeliness:
  points: 20
conduct:
  points: 20
  overdue: {per_workday: 0.2, cap: 10}
  returned: {each: 1, cap: 5}
  late_extension: {each: 2, cap: 6}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "late_credit: 0.5",
            "late_credit: 1.5",
            ":3: completion.late_credit: 超出范围：须不大于 1",
        ),
        (
            "per_workday: 0.2",
            "per_workday: 0.25",
            ":8: conduct.overdue.per_workday: 最多保留一位小数",
        ),
        ("cap: 5}", "cap: 五}", ":9: conduct.returned.cap: 应为数字"),
        (
            "  points: 20\n  overdue",
            "  points: 20\n  bonus: 1\n  overdue",
            ":8: conduct.bonus: 未知的键",
        ),
        (
            "  points: 60\n",
            "  points: 50\n",
            ":1: completion、timeliness、conduct 的 points 合计应为 100",
        ),
        ("timeliness:\n  points: 20\n", "", ":1: timeliness: 缺少必填项"),
        ("returned: {", "returned: [", ":9: YAML 格式错误"),
    ],
)
def test_bad_rules_name_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    """A bad rules file is refused whole, each problem named by file, line and field."""
    assert old in GOOD
    path = tmp_path / "assessment.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_assessment(path)
    assert caught.value.summary.startswith("考评细则文件")
    assert any(f"{path}{expected}" in str(p) for p in caught.value.problems), caught.value


def test_missing_rules_file(tmp_path: Path) -> None:
    """A rules path that does not exist is a Chinese input error."""
    with pytest.raises(InputError, match="找不到考评细则文件"):
        load_assessment(tmp_path / "nope.yaml")


def test_an_upheld_objection_excuses_one_part_of_one_item() -> None:
    """Excused from 按期完成 an item leaves that line but keeps its overdue days; excused from
    逾期扣分 its days go; a return or a late extension excused is not deducted, an early
    extension of the same item is untouched."""
    facts = UnitFacts(
        "u",
        "单位",
        "department",
        items=(
            item(1, date(2021, 11, 30), None, overdue=10),
            item(2, date(2021, 11, 30), date(2021, 11, 1)),
        ),
        events=(
            EventFact("returned", 1, "单位", "M1", "事项1", date(2021, 12, 3)),
            EventFact(
                "extension", 1, "单位", "M1", "事项1", date(2021, 12, 20),
                old_due=date(2021, 12, 15), new_due=date(2022, 1, 14),
            ),
        ),
    )  # fmt: skip
    # before: completion 60 × 1 ÷ 2 = 30; conduct 20 − 2 − 1 − 2 = 15: 30 + 20 + 15 = 65
    assert score(RULES, facts).score == D("65.0")
    completion = excuse(facts, [Excuse(1, "completion")])
    assert lines(score(RULES, completion))["completion"] == D("60.0")
    assert lines(score(RULES, completion))["overdue"] == D("-2.0")
    everything = excuse(
        facts, [Excuse(1, p) for p in ("completion", "overdue", "returned", "late_extension")]
    )
    assert score(RULES, everything).score == D("100.0")
    assert excuse(facts, []) == facts


def test_objections_are_filed_within_the_window() -> None:
    """Until N working days after the period's last day, and not one day more."""
    q4 = quarter("2021-Q4")
    check_filing(period=q4, filed_on=date(2022, 1, 7), workdays_after=5, within=5)
    with pytest.raises(ObjectionRefusedError, match=r"申诉期已过.*第 6 个工作日"):
        check_filing(period=q4, filed_on=date(2022, 1, 10), workdays_after=6, within=5)
