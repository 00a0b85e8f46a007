"""A plan past its end (规划期满): reminders go on through a close-out (收尾期) of some working
days after the period's last day, or until the day the coordinator extends it to, then stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.rules.glossary import zh_date


@dataclass(frozen=True)
class CloseOut:
    """A plan's end and its close-out: ``workdays`` after ``end``, or until ``until``."""

    end: date
    workdays: int
    until: date | None

    def over(self, day: date, workdays_since_end: int) -> bool:
        """Whether reminders stop on ``day`` (``workdays_since_end``: working days after the end
        up to and including ``day``)."""
        if day <= self.end:
            return False
        if self.until is not None:
            return day > self.until
        return workdays_since_end > self.workdays

    def words(self) -> str:
        """Why nothing is planned, and how to change it (for the log and the command line)."""
        span = (
            f"协调员延长的收尾期至{zh_date(self.until)}"
            if self.until is not None
            else f"期满后{self.workdays}个工作日的收尾期"
        )
        return (
            f"规划已于{zh_date(self.end)}期满，{span}已过：不再安排提醒。"
            "如需继续催办，请在目录 plan.close_out_until 写明延至哪天，再同步目录。"
        )
