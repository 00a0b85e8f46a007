"""Load a plan folder: parse every YAML file, validate its schema, merge, check consistency.

:func:`load_catalog` returns the :class:`~tasks_catalog.schema.Catalog` and a list of warnings,
or raises :class:`~config.errors.InputError` listing *every* problem found, each with its file,
line and field path. The consistency rules themselves are in :mod:`tasks_catalog.checks`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from config.errors import InputError, Problem
from config.pydantic_words import pydantic_reason
from config.yaml_lines import LineIndex, Loc, format_loc, parse_yaml, read_bounded
from tasks_catalog.checks import check
from tasks_catalog.schema import Catalog, CatalogFile, SourcePoint
from tasks_catalog.sources import Sources, Where


def catalog_files(path: Path) -> list[Path]:
    """The YAML files of a plan: the file itself, or every ``*.yaml``/``*.yml`` in the folder."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"找不到规划目录：{path}", [Problem(path, None, "", "没有这个路径")])
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if not files:
        raise InputError(
            f"{path} 中没有目录文件", [Problem(path, None, "", "文件夹中没有 *.yaml 文件")]
        )
    return files


def _schema_problems(path: Path, index: LineIndex, error: ValidationError) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        loc: Loc = tuple(p for p in detail["loc"] if not _is_union_tag(p))
        message = pydantic_reason(detail)
        if detail["type"] == "extra_forbidden":
            message += _allowed_keys_hint(loc[:-1])
        elif detail["type"] == "string_type" and isinstance(detail.get("input"), int | float):
            message = (
                f"应为文字，这里是数字 {detail['input']}；像数字的编号和代码请加引号："
                f'"{detail["input"]}"'
            )
        problems.append(Problem(path, index.line(loc), format_loc(loc), message))
    return problems


def _is_union_tag(part: Any) -> bool:
    # pydantic puts union member names such as 'list[...]' or 'function-after[...]' into locs
    return isinstance(part, str) and ("[" in part or part in {"str", "list", "int"})


def _allowed_keys_hint(loc: Loc) -> str:
    model: type[BaseModel] | None = CatalogFile
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _model_of(info.annotation) if info else None
    if model is None:
        return ""
    return "（可用的键：" + "、".join(model.model_fields) + "）"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def read_sources(path: Path) -> tuple[Sources, list[Problem], str]:
    """Parse and schema-check every file; returns the merged sources, problems and a checksum."""
    sources = Sources()
    problems: list[Problem] = []
    digest = hashlib.sha256()
    for file in catalog_files(path):
        raw, found = read_bounded(file)
        problems += found
        if raw is None:
            continue
        digest.update(file.name.encode() + b"\0" + raw + b"\0")
        data, index, found = parse_yaml(file, raw)
        problems += found
        if data is None:
            continue  # unparsable (reported) or empty (allowed)
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    file,
                    1,
                    "",
                    "应为键值对，含 plan、units、tasks、measures、indicators 等段",
                )
            )
            continue
        try:
            parsed = CatalogFile.model_validate(data)
        except ValidationError as error:
            problems += _schema_problems(file, index, error)
            continue
        if parsed.plan is not None:
            sources.plans.append((parsed.plan, Where(file, ("plan",), index)))
        for section in ("units", "tasks", "measures", "indicators"):
            target = getattr(sources, section)
            for i, entity in enumerate(getattr(parsed, section)):
                target.append((entity, Where(file, (section, i), index)))
    return sources, problems, digest.hexdigest()


def load_catalog(path: Path) -> tuple[Catalog, list[Problem]]:
    """Read, validate and check a plan; returns it with warnings, or raises InputError."""
    sources, problems, checksum = read_sources(path)
    if not problems and not sources.plans:
        problems.append(Problem(path, None, "plan", "没有哪个文件定义了 `plan:` 段"))
    if problems:
        raise InputError(_invalid(path, len(problems)), problems)
    errors, warnings = check(sources)
    if errors:
        raise InputError(_invalid(path, len(errors)), errors)
    catalog = Catalog(
        plan=sources.plans[0][0],
        units=[u for u, _ in sources.units],
        tasks=[t for t, _ in sources.tasks],
        measures=[m for m, _ in sources.measures],
        indicators=[i for i, _ in sources.indicators],
        checksum=checksum,
        carried_from_at=_carried_from_at(sources),
        plan_id_at=_point(sources.plans[0][1], ("plan", "id")),
    )
    return catalog, warnings


def _point(where: Where, loc: Loc) -> SourcePoint:
    return SourcePoint(file=where.file, line=where.index.line(loc), field=format_loc(loc))


def _carried_from_at(sources: Sources) -> dict[str, dict[str, SourcePoint]]:
    found: dict[str, dict[str, SourcePoint]] = {}
    for task, where in sources.tasks:
        for i, milestone in enumerate(task.milestones):
            if milestone.carried_from is None:
                continue
            loc = (*where.loc, "milestones", i, "carried_from")
            found[milestone.id] = {
                part: SourcePoint(
                    file=where.file,
                    line=where.index.line((*loc, part)),
                    field=format_loc((*loc, part)),
                )
                for part in ("plan", "milestone")
            }
    return found


def _invalid(path: Path, n: int) -> str:
    return f"任务目录 {path} 有 {n} 处错误，未写入任何内容；请按下列行号逐条改正"
