"""Which module defines each top-level command, so that ``duban <command>`` imports and builds
only that command; help, an unknown name or no name at all load every one, in the order below.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Sequence

import typer

COMMANDS: dict[str, str] = {
    "backup": "duban.cli_backup",
    "restore": "duban.cli_backup",
    "mail-intake": "duban.cli_mail",
    "brief": "duban.cli_briefing",
    "queue": "duban.cli_desk",
    "evidence": "duban.cli_desk",
    "escalate": "duban.cli_escalation",
    "notices": "duban.cli_escalation",
    "ack": "duban.cli_escalation",
    "extend": "duban.cli_escalation",
    "server": "duban.cli_orchestration",
    "watch": "duban.cli_orchestration",
    "serve": "duban.cli_orchestration",
    "deploy": "duban.cli_orchestration",
    "worker": "duban.cli_orchestration",
    "scheduler": "duban.cli_orchestration",
    "run": "duban.cli_orchestration",
    "publish": "duban.cli_publish",
    "workbook": "duban.cli_reporting",
    "collect": "duban.cli_reporting",
    "report": "duban.cli_reporting",
    "verify": "duban.cli_reporting",
    "return": "duban.cli_reporting",
    "indicators": "duban.cli_reporting",
    "web": "duban.cli_web",
    "init": "duban.cli",
    "recount": "duban.cli",
    "status": "duban.cli",
    "calendar": "duban.cli",
    "demo": "duban.cli",
    "catalog": "duban.cli",
    "item": "duban.cli",
    "assess": "duban.cli_assess",
    "evaluate": "duban.cli_evaluate",
    "extension-requests": "duban.cli_owner",
    "link": "duban.cli_web",
}
"""Every command and group of ``duban`` → the module that registers it on the root app, in the
order ``duban --help`` lists them (commands, then groups)."""
SUBCOMMANDS: dict[str, tuple[str, ...]] = {"catalog": ("duban.cli_carry",)}
"""The modules that add subcommands to a group registered elsewhere (``catalog carry-over``)."""


def name_of(command: typer.models.CommandInfo) -> str:
    """The name ``duban`` knows a registered command by."""
    assert command.callback is not None
    return command.name or typer.main.get_command_name(command.callback.__name__)


def load_all(root: typer.Typer) -> typer.Typer:
    """``root`` with every command registered, in the order of :data:`COMMANDS` (a name the
    table lacks comes last)."""
    for module in dict.fromkeys(
        [*COMMANDS.values(), *(m for ms in SUBCOMMANDS.values() for m in ms)]
    ):
        importlib.import_module(module)
    rank = {name: n for n, name in enumerate(COMMANDS)}
    root.registered_commands.sort(key=lambda c: rank.get(name_of(c), len(rank)))
    root.registered_groups.sort(key=lambda g: rank.get(g.name or "", len(rank)))
    return root


def invoked(args: Sequence[str]) -> str | None:
    """The command ``args`` (the arguments after ``duban``) name, if :data:`COMMANDS` has it; none
    when they start with an option such as ``--help``."""
    if args and args[0] in COMMANDS:
        return args[0]
    return None


def run(root: typer.Typer, args: Sequence[str]) -> None:
    """Run ``duban`` with ``args``: for a known command, a root that has that command alone
    (the same usage lines, help and errors); otherwise the whole ``root``."""
    name = invoked(args)
    if name is None:
        load_all(root)(args=list(args))
        return
    for module in (COMMANDS[name], *SUBCOMMANDS.get(name, ())):
        importlib.import_module(module)
    alone = copy.copy(root)
    alone.registered_commands = [c for c in root.registered_commands if name_of(c) == name]
    alone.registered_groups = [g for g in root.registered_groups if g.name == name]
    typer.main.get_group(alone)(args=list(args))
