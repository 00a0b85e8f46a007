"""Which long tables and lists leave the briefing's body for an annex (附件), and how the body
says where they went."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.rules.briefing.blocks import Block, ListBlock, Para, TableBlock

BODY_ROWS = 10
"""Rows of a long list kept in the body; the rest go to an annex."""


@dataclass(frozen=True)
class Annexed:
    """How a section's table or list goes to an annex when it is long."""

    title: str  # the annex's title
    most: int  # rows the body holds; a longer table or list is cut
    keep: int  # rows the body keeps of a longer one (0: all go to the annex)
    pointer: str  # the body's words where the rows went ({keep}, {rest}, {annex})


ANNEXED: dict[str, Annexed] = {
    "重点任务推进情况": Annexed(
        "重点任务推进情况表", 6, 0, "各重点任务的牵头单位和分项数字见附件{annex}。"
    ),
    "逾期事项清单": Annexed(
        "逾期未完成事项清单（续）",
        BODY_ROWS,
        BODY_ROWS,
        "以上列出前{keep}条，其余{rest}条见附件{annex}。",
    ),
    "存在问题": Annexed(
        "各单位反映的问题（续）",
        BODY_ROWS,
        BODY_ROWS,
        "以上列出前{keep}条，其余{rest}条见附件{annex}。",
    ),
    "下步工作": Annexed("近两周到期事项清单", 3, 0, "清单共{rest}条，见附件{annex}。"),
}
"""Section title → where its long table or list goes (the charts stay in the body)."""


def annexed(blocks: list[Block], rule: Annexed, annex: int) -> tuple[list[Block], Block | None]:
    """The section's blocks with its first table or list longer than ``rule.most`` cut to
    ``rule.keep`` rows and the pointer to the annex (a table's note, else a paragraph where
    the rows were), and the rows cut (None when all fits)."""
    for n, block in enumerate(blocks):
        head: Block
        tail: Block
        if isinstance(block, TableBlock) and len(block.rows) > rule.most:
            head = replace(block, rows=block.rows[: rule.keep], lights=block.lights[: rule.keep])
            tail = replace(block, rows=block.rows[rule.keep :], lights=block.lights[rule.keep :])
            rest = len(tail.rows)
        elif isinstance(block, ListBlock) and len(block.entries) > rule.most:
            head = replace(block, entries=block.entries[: rule.keep])
            tail = replace(block, entries=block.entries[rule.keep :], start=block.start + rule.keep)
            rest = len(tail.entries)
        else:
            continue
        pointer = rule.pointer.format(keep=rule.keep, rest=rest, annex=annex)
        if not rule.keep:
            shown: list[Block] = [Para(pointer)]
        elif isinstance(head, TableBlock):
            shown = [replace(head, note=pointer + head.note)]
        else:
            shown = [head, Para(pointer)]
        return [*blocks[:n], *shown, *blocks[n + 1 :]], tail
    return blocks, None
