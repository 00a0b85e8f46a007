"""The ``duban`` Typer application, its sub-groups and the options commands share."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from duban import cli_words

cli_words.install()

app = typer.Typer(
    help="督办 duban：跟踪规划的重点任务、节点和完成时限，亮灯、催办、出简报。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="校验并载入规划目录（YAML）。", no_args_is_help=True)
item_app = typer.Typer(help="查看、移动单个事项。", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(item_app, name="item")


def make_console(*, stderr: bool = False) -> Console:
    """A console that stays readable when piped: 140 columns unless the terminal says otherwise."""
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal:
        console.width = max(shutil.get_terminal_size((140, 40)).columns, 140)
    return console


out = make_console()
err = make_console(stderr=True)

CatalogPath = Annotated[
    Path | None,
    typer.Argument(help="规划目录文件夹或 YAML 文件（默认：DUBAN_CATALOG，即施甸规划）。"),
]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="日期 YYYY-MM-DD（默认：规划时区的今天）。"),
]
PlanOpt = Annotated[
    str | None,
    typer.Option("--plan", help="规划编号（数据库中有多个规划时才需要）。"),
]


def warn(messages: list[str]) -> None:
    """Print warnings on stderr."""
    for message in messages:
        err.print(f"[yellow]注意：[/]{message}", markup=True)
