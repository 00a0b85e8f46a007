"""The work-item lifecycle is a table of rules: allowed moves pass, others explain themselves."""

from __future__ import annotations

import pytest

from domain.rules.lifecycle import RULES, TransitionError, check_transition
from models.enums import ItemState as S


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (S.ASSIGNED, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.SUBMITTED),
        (S.SUBMITTED, S.CLOSED),
        (S.RETURNED, S.IN_PROGRESS),
        (S.BLOCKED, S.IN_PROGRESS),
        (S.EXTENDED, S.SUBMITTED),
    ],
)
def test_main_path_moves_are_allowed(start: S, end: S) -> None:
    """交办 → 签收 → 推进 → 办结申请 → 销号, and back to work from the side states."""
    assert check_transition(start, end, None).to_state == end


def test_closing_requires_a_submission_first() -> None:
    """An item cannot be closed straight from in-progress; the error lists where it can go."""
    with pytest.raises(TransitionError, match=r"“推进中”的事项只能转为：.*已申请办结"):
        check_transition(S.IN_PROGRESS, S.CLOSED, None)


@pytest.mark.parametrize("end", [S.RETURNED])
def test_return_needs_a_reason(end: S) -> None:
    """退回 without a reason is refused; with one it is allowed."""
    with pytest.raises(TransitionError, match="须说明原因"):
        check_transition(S.SUBMITTED, end, "  ")
    assert check_transition(S.SUBMITTED, end, "证明材料不全").name == "return"


def test_every_state_is_reachable_and_rules_are_unambiguous() -> None:
    """Each state except the initial one is some rule's target; no two rules share a move."""
    targets = {r.to_state for r in RULES}
    assert set(S) - targets == set()  # assigned is reached by `restore`
    moves = [(f, r.to_state) for r in RULES for f in r.from_states]
    assert len(moves) == len(set(moves))
