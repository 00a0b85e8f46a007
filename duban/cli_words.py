"""Chinese for the words Typer prints around ours: help panels, the help hint, usage errors.

Typer looks some words up through :mod:`gettext` (``_`` in :mod:`typer.core`, its panel titles
once at import); :func:`install` points those look-ups at :data:`WORDS`, and words the few that
the Click it vendors writes as literals ("Usage:", the help option's text, an unknown option).
Our own usage errors are :class:`BadOption`, which words its message in Chinese.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import re
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

import typer

WORDS: dict[str, str] = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示本帮助并退出。",
    "Error": "错误",
    "Error: {message}": "错误：{message}",
    "Aborted!": "已中止！",
    "Aborted.": "已中止。",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": (
        "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。"
    ),
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Did you mean {possibility}?": "是不是 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是以下之一：{possibilities}？）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "{value!r} is not {choice}.": "{value!r} 不是 {choice}。",
    "{value!r} is not one of {choices}.": "{value!r} 不是以下之一：{choices}。",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "integer": "整数",
    "float": "数",
    "{value} is not in the range {range}.": "{value} 不在 {range} 范围内。",
    "{value} is not {boolean}.": "{value} 不是 {boolean}。",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "(deprecated) ": "（已弃用）",
    "(dynamic)": "（动态）",
}
"""Click's and Typer's English → Chinese."""

_MODULES = ("typer.core", "typer._click.parser")
_TYPER_CONSTANTS = {
    "DEPRECATED_STRING": "(deprecated) ",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}


def gettext(message: str) -> str:
    """``message`` in Chinese when the table has it."""
    return WORDS.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The Chinese of the singular or plural form (Chinese has one form)."""
    return gettext(singular if n == 1 else plural)


class BadOption(typer.BadParameter):
    """A usage error in an option or argument (exit status 2), worded in Chinese (by
    :func:`_bad_value`, which :func:`install` makes every bad value's wording)."""

    def __init__(self, message: str, *, param_hint: Sequence[str] | str) -> None:
        super().__init__(message, param_hint=param_hint)


def _no_such_option(error: Any) -> str:
    """An unknown option, and the options there are, in Chinese."""
    text = f"没有选项 {error.option_name}"
    if error.possibilities:
        text += f"（可用的选项：{'、'.join(sorted(error.possibilities))}）"
    return text


_LITERAL_MESSAGES = (
    (re.compile(r"^Option (.+) requires an argument\.$"), r"选项 \1 需要一个值。"),
    (re.compile(r"^Option (.+) requires (\d+) arguments\.$"), r"选项 \1 需要 \2 个值。"),
    (re.compile(r"^Option (.+) does not take a value\.$"), r"选项 \1 不带值。"),
    (re.compile(r"^Argument (.+) takes (\d+) values\.$"), r"参数 \1 需要 \2 个值。"),
)
"""Messages the vendored parser builds as f-strings, matched whole."""


def _literal_message(error: Any) -> str:
    """A usage error's message, in Chinese when it is one of :data:`_LITERAL_MESSAGES`."""
    for pattern, chinese in _LITERAL_MESSAGES:
        if pattern.match(error.message):
            return pattern.sub(chinese, error.message)
    return str(error.message)


_MISSING = re.compile(r"^Missing (option|argument|parameter)(?: (.+?))?\.(?: (.+))?$", re.S)
_MISSING_KIND = {"option": "选项", "argument": "参数", "parameter": "参数"}


def _missing(format_message: Any) -> Any:
    """A required option or argument left out, said in Chinese (Click builds it literally)."""

    def chinese(self: Any) -> str:
        text = str(format_message(self))
        found = _MISSING.match(text)
        if found is None:
            return text
        hint = f" {found[2]}" if found[2] else ""
        more = f"（{found[3]}）" if found[3] else ""
        return f"缺少{_MISSING_KIND[found[1]]}{hint}。{more}"

    return chinese


def _bad_value(error: Any) -> str:
    """A value Typer could not convert, said in Chinese with the option or argument it was for."""
    if error.param_hint is not None:
        hint = error.param_hint
    elif error.param is not None:
        hint = error.param.get_error_hint()
    else:
        return f"取值无效：{error.message}"
    joined = hint if isinstance(hint, str) else " / ".join(hint)
    return f"{joined} 的值无效：{error.message}"


def _click_literals() -> None:
    """Chinese for what the vendored Click writes as literals rather than through gettext."""
    core = importlib.import_module("typer._click.core")
    formatting = importlib.import_module("typer._click.formatting")
    exceptions = importlib.import_module("typer._click.exceptions")
    if getattr(core.Command.get_help_option, "duban", False):
        return
    help_option = core.Command.get_help_option
    write_usage = formatting.HelpFormatter.write_usage

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = help_option(self, ctx)
        if option is not None:
            option.help = gettext("Show this message and exit.")
        return option

    def usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, gettext("Usage:") if prefix is None else prefix)

    get_help_option.duban = True  # type: ignore[attr-defined]
    core.Command.get_help_option = get_help_option
    formatting.HelpFormatter.write_usage = usage
    exceptions.BadParameter.format_message = _bad_value
    exceptions.NoSuchOption.format_message = _no_such_option
    exceptions.BadOptionUsage.format_message = _literal_message
    exceptions.BadArgumentUsage.format_message = _literal_message
    missing = exceptions.MissingParameter
    missing.format_message = _missing(missing.format_message)


CHECKS: dict[str, str] = {
    "int_parsing": "{input!r} 不是整数",
    "int_from_float": "{input!r} 不是整数",
    "float_parsing": "{input!r} 不是数",
    "bool_parsing": "{input!r} 不是“是/否”",
    "date_parsing": "{input!r} 不是 2025-06-13 这样的日期",
    "date_from_datetime_parsing": "{input!r} 不是 2025-06-13 这样的日期",
    "greater_than_equal": "{input!r} 太小（最小为 {ge}）",
    "less_than_equal": "{input!r} 太大（最大为 {le}）",
}
"""pydantic's checks (Typer converts values with it) → Chinese, by the error's type."""


def _checked(exc: Any) -> str:
    """The first of a pydantic ValidationError's errors, in Chinese when :data:`CHECKS` has it."""
    errors = exc.errors()
    if not errors:
        return str(exc)
    first = errors[0]
    said = CHECKS.get(first["type"])
    if said is None:
        return str(first["msg"])
    return said.format(input=first.get("input"), **(first.get("ctx") or {}))


def install() -> None:
    """Point Typer's word look-ups at :data:`WORDS` (idempotent)."""
    _click_literals()
    coercion = importlib.import_module("typer._coercion")
    if hasattr(coercion, "get_error_msg"):
        coercion.get_error_msg = _checked  # type: ignore[attr-defined]
    for name in _MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    if _RICH_UTILS in sys.modules:
        _word_rich_utils(sys.modules[_RICH_UTILS])
    elif not any(isinstance(finder, _WordRichUtils) for finder in sys.meta_path):
        sys.meta_path.insert(0, _WordRichUtils())


_RICH_UTILS = "typer.rich_utils"


def _word_rich_utils(rich_utils: ModuleType) -> None:
    """Chinese for the panel titles and hints Typer's help formatter keeps as constants."""
    for constant, english in _TYPER_CONSTANTS.items():
        if hasattr(rich_utils, constant):
            setattr(rich_utils, constant, gettext(english))


class _WordRichUtils(importlib.abc.MetaPathFinder):
    """Words Typer's help formatter as soon as it is imported: it loads rich's markdown and
    pygments (60 ms), which only help pages and errors need, so it is not imported up front."""

    def find_spec(self, fullname: str, *_: Any) -> ModuleSpec | None:
        if fullname != _RICH_UTILS:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenWord(spec.loader)
        return spec


class _ThenWord(importlib.abc.Loader):
    """A loader that runs the real one, then :func:`_word_rich_utils` on the module."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        _word_rich_utils(module)
