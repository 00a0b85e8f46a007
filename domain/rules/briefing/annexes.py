"""Which long tables and lists leave the briefing's body for an annex (附件), and how the body
says where they went."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from domain.rules.briefing.blocks import Block, ListBlock, Para, TableBlock
from domain.rules.briefing.lists import first_named, shorten

REASON_CHARS = 12
"""Characters of a unit's stated reason the body's overdue table shows (all in the annex)."""

BODY_ROWS = 10
"""Rows of a long list kept in the body; the rest go to an annex."""


def phrase(reasons: str) -> str:
    """The first of the reasons units gave (:func:`~domain.rules.briefing.lists.brief_reasons`)
    in at most :data:`REASON_CHARS` characters, 等 when more were given."""
    first, _, more = reasons.partition("；")
    short = shorten(first, REASON_CHARS)
    return short + "等" if more and short == first else short


@dataclass(frozen=True)
class Annexed:
    """How a section's table or list goes to an annex when it is long.

    A table may be shown narrower in the body (``columns``, texts cut to ``cut`` characters);
    when anything is left out that way, the annex holds the whole table (``whole``) rather
    than only the rows the body does not show."""

    title: str  # the annex's title
    most: int  # rows the body holds; a longer table or list is cut
    keep: int  # rows the body keeps of a longer one (0: all go to the annex)
    pointer: str  # the body's words where the rows went ({keep}, {rest}, {annex}); a clause
    # without its full stop when nothing is kept (it ends the paragraph before)
    columns: tuple[int, ...] = ()  # the table's columns the body shows (all when empty)
    cut: dict[int, Callable[[str], str]] = field(default_factory=dict)  # column → the body's text
    whole: str = ""  # the pointer when the annex holds the whole table ({annex})
    note: str = ""  # the body's note under a narrowed table (the annex keeps the table's own)
    charts: bool = False  # the section's charts go to the annex with its table


ANNEXED: dict[str, Annexed] = {
    "重点任务推进情况": Annexed(
        "重点任务推进情况表",
        6,
        0,
        "详见附件{annex}",
        charts=True,
    ),
    "逾期事项清单": Annexed(
        "逾期未完成事项清单",
        BODY_ROWS,
        BODY_ROWS,
        "以上列出前{keep}条，其余{rest}条见附件{annex}。",
        columns=(0, 1, 2, 4, 6),
        cut={2: first_named, 6: phrase},
        note="逾期天数按工作日计算。",  # after the pointer
        whole="单位说明为摘要，完整清单见附件{annex}；",
    ),
    "存在问题": Annexed(
        "各单位反映的问题（续）",
        BODY_ROWS,
        BODY_ROWS,
        "以上列出前{keep}条，其余{rest}条见附件{annex}。",
    ),
    "下步工作": Annexed("近两周到期事项清单", 3, 0, "清单见附件{annex}"),
}
"""Section title → where its long table or list goes (and its charts, when ``charts``)."""


def narrowed(table: TableBlock, rule: Annexed) -> TableBlock:
    """The table as the body shows it: ``rule.columns`` only, texts cut to ``rule.cut``."""
    keep = rule.columns or tuple(range(len(table.headers)))
    at = {old: new for new, old in enumerate(keep)}

    def cell(row: list[str], c: int) -> str:
        return rule.cut[c](row[c]) if c in rule.cut else row[c]

    return replace(
        table,
        headers=[table.headers[c] for c in keep],
        rows=[[cell(row, c) for c in keep] for row in table.rows],
        numeric=frozenset(at[c] for c in table.numeric if c in at),
        nowrap=frozenset(at[c] for c in table.nowrap if c in at),
        light_column=at.get(table.light_column) if table.light_column is not None else None,
        widths=tuple(table.widths[c] for c in keep) if table.widths else (),
    )


def annexed(blocks: list[Block], rule: Annexed, annex: int) -> tuple[list[Block], Block | None]:
    """The section's blocks with its first table or list longer than ``rule.most`` cut to
    ``rule.keep`` rows and the pointer to the annex (a table's note; with nothing kept, the end
    of the paragraph before, else a paragraph where the rows were), and what the annex holds
    (None when all fits)."""
    for n, block in enumerate(blocks):
        head: Block
        tail: Block
        if isinstance(block, TableBlock):
            body = narrowed(block, rule)
            shortened = any(
                cut(row[c]) != row[c] for row in block.rows for c, cut in rule.cut.items()
            )
            if rule.whole and (shortened or len(block.rows) > rule.most):
                rest = len(block.rows)
                pointer = (f"以上列出前{rule.keep}条，" if rest > rule.keep else "") + (
                    rule.whole.format(annex=annex)
                )
                head = replace(body, rows=body.rows[: rule.keep], lights=body.lights[: rule.keep])
                shown_table = replace(head, note=pointer + rule.note)
                return [*blocks[:n], shown_table, *blocks[n + 1 :]], block
            if len(block.rows) <= rule.most:
                continue
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
        before = blocks[n - 1] if n else None
        if not rule.keep and isinstance(before, Para):
            joined = replace(before, text=before.text.removesuffix("。") + f"，{pointer}。")
            return [*blocks[: n - 1], joined, *blocks[n + 1 :]], tail
        if not rule.keep:
            shown: list[Block] = [Para(pointer + "。")]
        elif isinstance(head, TableBlock):
            shown = [replace(head, note=pointer + head.note)]
        else:
            shown = [head, Para(pointer)]
        return [*blocks[:n], *shown, *blocks[n + 1 :]], tail
    return blocks, None
