"""The ``duban`` Typer application, its sub-groups and the options commands share."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="督办 duban: track a government plan's key tasks, milestones and deadlines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Check and load plan catalogues (YAML).", no_args_is_help=True)
item_app = typer.Typer(help="Look at single work items.", no_args_is_help=True)
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
    typer.Argument(help="Plan folder or YAML file (default: DUBAN_CATALOG, the Shidian plan)."),
]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Date YYYY-MM-DD (default: today in the plan's timezone)."),
]
PlanOpt = Annotated[
    str | None,
    typer.Option("--plan", help="Plan id (needed only when the database holds several plans)."),
]


def warn(messages: list[str]) -> None:
    """Print warnings on stderr."""
    for message in messages:
        err.print(f"[yellow]warning:[/] {message}", markup=True)
