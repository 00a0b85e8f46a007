"""The assessment rules (考评细则) as data: the points of each part of a unit's 100-point score
and the deductions taken from its conduct base.

The default is ``config/assessment.yaml``; ``duban assess --rules PATH`` reads another file. It
is read with line numbers, so a mistake is reported as ``file:line: field: message``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from config.errors import InputError, Problem
from config.pydantic_words import pydantic_reason
from config.yaml_lines import format_loc, read_yaml

DEFAULT_ASSESSMENT = Path(__file__).resolve().parent / "assessment.yaml"
TOTAL = Decimal(100)
"""What the parts' points add up to."""
TENTH = Decimal("0.1")


def _tenths(value: Decimal) -> Decimal:
    if value != value.quantize(TENTH):
        raise ValueError("最多保留一位小数")
    return value


Points = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False), AfterValidator(_tenths)]
Ratio = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False, decimal_places=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Completion(Strict):
    """按期完成: ``points`` shared among the items due, by weight; late ones earn a part."""

    points: Points
    late_credit: Ratio = Decimal("0.5")


class Timeliness(Strict):
    """报送及时: ``points`` × reports on time ÷ reports owed."""

    points: Points


class PerDay(Strict):
    """A deduction per working day overdue, at most ``cap`` in all."""

    per_workday: Points
    cap: Points


class PerEvent(Strict):
    """A deduction per event, at most ``cap`` in all."""

    each: Points
    cap: Points


class Conduct(Strict):
    """规范办理: a base of ``points`` the deductions are taken from (never below zero)."""

    points: Points
    overdue: PerDay
    returned: PerEvent
    late_extension: PerEvent
    early_extension: PerEvent = PerEvent(each=Decimal(0), cap=Decimal(0))


class Objections(Strict):
    """申诉: a unit may contest a deduction until ``within_workdays`` working days after the
    period's last day."""

    within_workdays: int = Field(default=5, ge=0, le=60)


class AssessmentRules(Strict):
    """The whole of the rules."""

    completion: Completion
    timeliness: Timeliness
    conduct: Conduct
    objections: Objections = Objections()

    @model_validator(mode="after")
    def _hundred(self) -> AssessmentRules:
        parts = self.completion.points + self.timeliness.points + self.conduct.points
        if parts != TOTAL:
            total = f"{parts.normalize():f}"
            raise ValueError(
                f"completion、timeliness、conduct 的 points 合计应为 100，现为 {total}"
            )
        return self


def load_assessment(path: Path | None = None) -> AssessmentRules:
    """Read and validate an assessment rules file (default: the shipped one)."""
    path = path or DEFAULT_ASSESSMENT
    if not path.exists():
        raise InputError(f"找不到考评细则文件：{path}", [Problem(path, None, "", "没有这个文件")])
    data, index, problems = read_yaml(path)
    if not problems:
        try:
            return AssessmentRules.model_validate(data or {})
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                loc = tuple(detail["loc"])
                problems.append(
                    Problem(path, index.line(loc), format_loc(loc), pydantic_reason(detail))
                )
    raise InputError(f"考评细则文件 {path} 有误，未使用", problems)
