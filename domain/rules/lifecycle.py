"""The work-item lifecycle as data: a small state machine with named transition rules.

交办 assigned → 签收 acknowledged → 推进中 in_progress → 办结申请 submitted → 核验销号 closed,
with 退回 returned (back to work, with a reason), 受阻 blocked and 已延期 extended on the side,
and 撤销 retired when the catalogue drops a milestone. Every move that happens is stored with
time, actor and reason (:mod:`domain.queries.items`); this module only says which moves are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.rules.glossary import ITEM_STATES
from models.enums import ItemState as S

OPEN_STATES = frozenset(
    {S.ASSIGNED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.RETURNED, S.BLOCKED, S.EXTENDED}
)
DONE_STATES = frozenset({S.SUBMITTED, S.CLOSED})
FINISHED_STATES = frozenset({S.CLOSED, S.RETIRED})
"""States that no longer hold back the items depending on this one."""


def done_values() -> list[str]:
    """:data:`DONE_STATES` as the column values, in a fixed order (for SQL)."""
    return sorted(s.value for s in DONE_STATES)


def finished_values() -> list[str]:
    """:data:`FINISHED_STATES` as the column values, in a fixed order (for SQL)."""
    return sorted(s.value for s in FINISHED_STATES)


@dataclass(frozen=True)
class Rule:
    """One allowed kind of move."""

    name: str
    from_states: frozenset[S]
    to_state: S
    needs_reason: bool = False
    description: str = ""
    system: bool = False  # only duban itself (catalogue sync) makes this move

    @property
    def word(self) -> str:
        """The move's Chinese name: the description's head (签收, 退回 …)."""
        return self.description.split(":")[0]


RULES: tuple[Rule, ...] = (
    Rule(
        "acknowledge",
        frozenset({S.ASSIGNED}),
        S.ACKNOWLEDGED,
        description="签收: the unit confirms it has the item",
    ),
    Rule(
        "start",
        frozenset({S.ASSIGNED, S.ACKNOWLEDGED, S.RETURNED, S.BLOCKED, S.EXTENDED}),
        S.IN_PROGRESS,
        description="推进: work is under way",
    ),
    Rule(
        "submit",
        OPEN_STATES,
        S.SUBMITTED,
        description="办结申请: the unit reports the item done, with its evidence",
    ),
    Rule(
        "verify",
        frozenset({S.SUBMITTED}),
        S.CLOSED,
        description="核验销号: the coordinator checks the evidence and closes the item",
    ),
    Rule(
        "return",
        frozenset({S.SUBMITTED}),
        S.RETURNED,
        needs_reason=True,
        description="退回: the coordinator sends it back, saying why",
    ),
    Rule(
        "block",
        OPEN_STATES - {S.BLOCKED},
        S.BLOCKED,
        needs_reason=True,
        description="受阻: the unit cannot proceed, saying why",
    ),
    Rule(
        "extend",
        OPEN_STATES,
        S.EXTENDED,
        needs_reason=True,
        description="延期: an approved new deadline",
    ),
    Rule(
        "reopen",
        frozenset({S.CLOSED}),
        S.IN_PROGRESS,
        needs_reason=True,
        description="重新打开: a closed item turned out not to be done",
    ),
    Rule(
        "withdraw",
        frozenset({S.SUBMITTED}),
        S.IN_PROGRESS,
        needs_reason=True,
        description="撤回办结申请: the unit says it is not done after all, saying why",
    ),
    Rule(
        "regress",
        frozenset({S.IN_PROGRESS, S.BLOCKED, S.EXTENDED, S.RETURNED}),
        S.ACKNOWLEDGED,
        needs_reason=True,
        description="退回未开始: the unit reports that no work is under way, saying why",
    ),
    Rule(
        "retire",
        OPEN_STATES | {S.SUBMITTED},
        S.RETIRED,
        needs_reason=True,
        description="撤销: its milestone left the catalogue",
        system=True,
    ),
    *(
        Rule(
            "restore",
            frozenset({S.RETIRED}),
            target,
            needs_reason=True,
            description="恢复: back in the catalogue, in the state it was retired from",
            system=True,
        )
        for target in sorted(OPEN_STATES | {S.SUBMITTED})
    ),
)


class TransitionError(ValueError):
    """A move the lifecycle does not allow, or one missing its reason."""


class ReasonRequiredError(TransitionError):
    """A move the lifecycle allows only with a stated reason, and none was given."""


class ChangedMeanwhileError(TransitionError):
    """The item is no longer in the state the move starts from: another transaction moved it
    since it was read. Reading it again and retrying may succeed."""


def find_rule(from_state: S, to_state: S) -> Rule:
    """The rule that allows moving from one state to another, or TransitionError."""
    for rule in RULES:
        if rule.to_state == to_state and from_state in rule.from_states:
            return rule
    allowed = sorted({r.to_state for r in RULES if from_state in r.from_states})
    listed = "、".join(ITEM_STATES[s] for s in allowed) or "（无）"
    raise TransitionError(
        f"不能从“{ITEM_STATES[from_state]}”转为“{ITEM_STATES[to_state]}”；"
        f"“{ITEM_STATES[from_state]}”的事项只能转为：{listed}"
    )


def check_transition(
    from_state: S, to_state: S, reason: str | None, *, system: bool = False
) -> Rule:
    """Validate one move; returns the rule that allows it."""
    rule = find_rule(from_state, to_state)
    if rule.system and not system:
        raise TransitionError(
            f"“{ITEM_STATES[from_state]}”转“{ITEM_STATES[to_state]}”（{rule.word}）由 "
            "`duban catalog sync` 在节点移出或移回目录时完成；请改目录"
        )
    if rule.needs_reason and not (reason and reason.strip()):
        raise ReasonRequiredError(f"转为“{ITEM_STATES[to_state]}”（{rule.word}）须说明原因")
    return rule
