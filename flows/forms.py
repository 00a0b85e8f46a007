"""The Prefect UI's run forms in Chinese: each flow parameter is declared with :func:`field`
(a title, a description, checks), and :func:`chinese_form` puts the titles into a deployment's
form, which Prefect titles with the parameter's name, and shows an optional value as a field of
its own type rather than a choice between that type and "None"."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo

ACTOR_PATTERN = r"\S"
"""经办人: at least one character that is not a space."""


JSON_CHECKS = {
    "ge": "minimum",
    "le": "maximum",
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
}
"""pydantic's checks by their JSON-schema names: Prefect builds the form's schema anew from the
title, description and extra keys only, so the checks are repeated there for the form."""


def field(title: str, description: str, default: Any = ..., **checks: Any) -> Any:
    """A flow parameter's default: its form title and description in Chinese, and ``checks``
    (``ge``, ``le``, ``min_length``, ``max_length``, ``pattern``), applied by pydantic when the
    run starts and by the form before it is sent; ``...`` makes it required."""
    extra = {JSON_CHECKS[name]: value for name, value in checks.items()}
    return Field(default, title=title, description=description, json_schema_extra=extra, **checks)


def actor_field() -> Any:
    """The 经办人 of a coordinator's action: required, recorded in the item's history."""
    return field("经办人", "您的姓名（记入事项的办理记录）", min_length=1, pattern=ACTOR_PATTERN)


def titles(fn: Callable[..., Any]) -> dict[str, str]:
    """The Chinese title of each parameter of ``fn`` declared with :func:`field`."""
    found: dict[str, str] = {}
    for name, parameter in inspect.signature(fn).parameters.items():
        default = parameter.default
        if isinstance(default, FieldInfo) and default.title:
            found[name] = default.title
    return found


def chinese_form(properties: dict[str, Any], fn: Callable[..., Any]) -> None:
    """Rewrite a deployment's parameter schema (its ``properties``) in place: the titles of
    :func:`titles`, and ``anyOf [T, null]`` as plain T (left empty, the value stays None)."""
    named = titles(fn)
    for name, prop in properties.items():
        if name in named:
            prop["title"] = named[name]
        choices = prop.get("anyOf")
        if isinstance(choices, list) and len(choices) == 2 and {"type": "null"} in choices:
            (kind,) = [c for c in choices if c != {"type": "null"}]
            del prop["anyOf"]
            prop.update(kind)
