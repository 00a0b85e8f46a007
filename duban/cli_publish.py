"""``duban publish``: the plan's progress as static public pages (政务公开)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duban.app import AsOf, PlanOpt, app, out
from duban.dates import parse_date


@app.command()
def publish(
    out_dir: Annotated[Path, typer.Option("--out", help="网页写入的文件夹（没有则新建）。")],
    as_of: AsOf = None,
    plan: PlanOpt = None,
) -> None:
    """生成可放到政府网站的实施进展公开网页（不含个人姓名、联系方式和单位反映的问题）。"""
    from config.settings import get_settings
    from domain.adapters.disclosure_site import write_site
    from domain.queries.context import build_context
    from domain.queries.disclosure import disclosure_view
    from domain.rules.context import LightPolicy
    from duban.database import ready_engine
    from models.db import session_scope

    settings = get_settings()
    policy = LightPolicy(settings.yellow_workdays, settings.pace_margin)
    with session_scope(ready_engine()) as session:
        ctx = build_context(session, plan, parse_date(as_of), policy)
        view = disclosure_view(session, ctx)
    files = write_site(view, out_dir)  # a folder that cannot be written: see cli_errors
    out.print(
        f"已生成{view.as_of_zh}的实施进展公开网页 {len(files)} 个，在 {out_dir}"
        f"（首页 {out_dir / 'index.html'}）",
        markup=False,
        soft_wrap=True,
    )
