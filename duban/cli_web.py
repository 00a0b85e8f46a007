"""Commands for the owner's side: ``duban web`` serves the pages, ``duban link`` hands out and
revokes the personal links that open them."""

from __future__ import annotations

from typing import Annotated

import typer

from duban.app import PlanOpt, app, out

link_app = typer.Typer(
    help="单位页面的个人链接（点击填报）：打印一个，或作废某联系人的全部链接。",
    invoke_without_command=True,
)
app.add_typer(link_app, name="link")


@app.command()
def web(
    host: Annotated[str | None, typer.Option(help="监听地址（默认取 DUBAN_WEB_HOST）。")] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="监听端口（默认取 DUBAN_WEB_PORT）。"),
    ] = None,
) -> None:
    """提供填报页面（个人链接打开的页面），按 Ctrl-C 停止。"""
    import uvicorn

    from config.settings import get_settings
    from duban.database import ready_engine
    from duban.web import create_app

    ready_engine()  # a missing or old database is said now, not on the first page
    settings = get_settings()
    bind_host, bind_port = host or settings.web_host, port or settings.web_port
    out.print(
        f"督办填报页面：http://{bind_host}:{bind_port}/ （个人链接以 "
        f"{settings.resolved_web_base_url}/l/ 开头；Ctrl-C 停止）",
        markup=False,
        soft_wrap=True,
    )
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="warning")


@link_app.callback()
def link(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option(help="单位编号（与目录中一致）。")] = None,
    contact: Annotated[
        int | None,
        typer.Option(help="联系人序号（默认：本单位联络员，没有则取其他联系人）。"),
    ] = None,
    plan: PlanOpt = None,
) -> None:
    """打印联系人进入本单位页面的个人链接（有效 DUBAN_LINK_DAYS 天）。"""
    if ctx.invoked_subcommand is not None:
        return
    if unit is None:
        raise typer.BadParameter(
            "请用 --unit 指定单位编号（给联络员以外的人发链接时再加 --contact 序号）",
            param_hint="--unit",
        )
    from config.settings import get_settings
    from domain.adapters.signing import workbook_secret
    from domain.queries.context import resolve_plan
    from domain.queries.owner_links import ROLE_NAMES, issue_link
    from domain.rules.glossary import zh_date
    from duban.database import ready_engine
    from models import clock
    from models.db import session_scope

    settings = get_settings()
    with session_scope(ready_engine()) as session:
        plan_row = resolve_plan(session, plan)
        issued = issue_link(
            session,
            workbook_secret(settings),
            plan_id=plan_row.id,
            unit_code=unit,
            contact_id=contact,
            now=clock.now(),
            days=settings.link_days,
        )
        until = zh_date(clock.local_date(issued.expires, plan_row.timezone))
    role = ROLE_NAMES.get(issued.contact_role, issued.contact_role)
    out.print(
        f"{issued.unit_name}（{issued.unit_code}）{role}{issued.contact_name}"
        f"（联系人编号 {issued.contact_id}）的个人链接，有效期至 {until}：",
        markup=False,
        soft_wrap=True,
    )
    out.print(f"{settings.resolved_web_base_url}/l/{issued.token}", markup=False, soft_wrap=True)


@link_app.command("revoke")
def revoke(
    contact: Annotated[int, typer.Option(help="联系人序号（即 `duban link` 打印的）。")],
) -> None:
    """作废已发给该联系人的全部链接；下次 `duban link` 会发新链接。"""
    from domain.queries.owner_links import revoke_links
    from duban.database import ready_engine
    from models.db import session_scope

    with session_scope(ready_engine()) as session:
        name, unit_name = revoke_links(session, contact)
    out.print(
        f"已停用{unit_name}{name}（联系人编号 {contact}）此前的全部个人链接；"
        "如需新链接，请运行 `duban link`。",
        markup=False,
        soft_wrap=True,
    )
