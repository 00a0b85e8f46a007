"""A coordinator's mistake is not a system failure: a flow that refuses what it was asked (an
item that cannot move so, an id that does not exist, a broken catalogue, a typo in a run form)
ends as a run named 未执行 with the reason, in Chinese, in its message, log and an artifact; no
traceback and no failure alert, which stay for real faults."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed

from config.errors import InputError, NotFoundError
from domain.rules.lifecycle import TransitionError
from flows.common import RunFormError, logger

REFUSED = "未执行"
"""The name of a refused run's state. Its type is Completed: the run did its job, which was to
refuse (a Cancelled or Failed state makes Prefect's runner log a traceback)."""
REFUSALS: tuple[type[Exception], ...] = (InputError, NotFoundError, TransitionError, RunFormError)
"""What a person's input can be refused with; anything else is a fault."""

P = ParamSpec("P")
R = TypeVar("R")


def refused(reason: str) -> State[Any]:
    """The final state of a run that did nothing because ``reason``; logged, and kept as an
    artifact the run's page shows. Its result is ``{"refused": reason}``."""
    logger().warning("未执行：%s", reason)
    create_markdown_artifact(f"# 未执行\n\n原因：{reason}\n", description="未执行的原因")
    return Completed(name=REFUSED, message=f"未执行：{reason}", data={"refused": reason})


def refusal_of(result: object) -> str | None:
    """The reason a flow's result says it refused, or None for a run that did its work."""
    if isinstance(result, dict) and set(result) == {"refused"}:
        return str(result["refused"])
    return None


def refusing(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a flow's function (under ``@flow``): a refusal becomes :func:`refused`. Prefect
    makes a returned state the run's final state, so a caller of the flow gets its result,
    ``{"refused": reason}`` (:func:`refusal_of`), never the state."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except REFUSALS as exc:
            return cast(R, refused(str(exc)))

    # the parameters' types resolved in the flow's own module: Prefect builds the run form and
    # checks its values from them, in the namespace of this module
    run.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return run
