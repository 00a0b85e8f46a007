"""The unit's latest assessment (考评) on its own page, and its objection (申诉) form.

The owner's page shows the score of the last quarter ended and its lines
(``owner_assessment.html.j2``); ``/l/{token}/assessment`` lists the deductions the unit may
contest with a short form (which deduction, why), recorded as the coordinator's
``duban assess objection add`` records it (:func:`domain.queries.objections.file_objection`),
and answered with a receipt (回执) whose message goes to the submitter's outbox. A village's
items count for its township, which alone may contest them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from config.assessment import load_assessment
from config.errors import NotFoundError
from domain.queries.objections import file_objection, objections_of
from domain.queries.owner_assessment import OwnerAssessment, assessed_of, owner_assessment
from domain.queries.owner_links import Owner
from domain.queries.plans import plan_of
from domain.queries.receipts import Receipt
from domain.rules.assessment_periods import period_of
from domain.rules.glossary import ASSESSMENT_PARTS, zh_date
from domain.rules.objections import ObjectionRefusedError
from domain.services.receipts import send_receipt
from duban.web import pages
from duban.web.site import RefusedError, Site

MAX_REASON = 1000
"""Characters an objection's reason may hold."""
STATUS_WORDS = {"pending": "待决定", "upheld": "成立", "rejected": "不成立"}


def assessment_of(site: Site, session: Session, owner: Owner) -> OwnerAssessment | None:
    """The owner's unit's latest assessment today (None before the plan's first quarter)."""
    return owner_assessment(
        session, site.context_of(session, owner), load_assessment(), owner.unit_id
    )


def page(
    site: Site,
    token: str,
    owner: Owner,
    assessment: OwnerAssessment,
    form: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
) -> HTMLResponse:
    return pages.render(
        "assessment.html.j2",
        status,
        prefix=site.prefix,
        base=site.base(token),
        token=token,
        owner=owner,
        a=assessment,
        form=form,
        errors=errors,
        statuses=STATUS_WORDS,
        parts=ASSESSMENT_PARTS,
        max_reason=MAX_REASON,
    )


def _none_yet(site: Site, token: str) -> HTMLResponse:
    return pages.message(
        site.prefix,
        404,
        "尚无考评结果",
        "规划的第一个季度结束后，这里显示本单位的季度考评得分。",
        f"返回本单位的事项列表：{site.base(token)}",
    )


def show_assessment(site: Site, token: str) -> Response:
    """GET the unit's assessment with its deductions and, within the window, the form."""
    try:
        with site.transaction() as session:
            owner = site.owner(session, token)
            found = assessment_of(site, session, owner)
            if found is None:
                raise RefusedError(_none_yet(site, token))
    except RefusedError as refused:
        return refused.response
    return page(site, token, owner, found, {}, {})


def post_objection(
    site: Site, token: str, form: Mapping[str, str], headers: Mapping[str, str]
) -> Response:
    """POST an objection: recorded (303 to its receipt) or the page again with the reason
    beside its field (422), nothing written."""
    values = {"deduction": form.get("deduction", ""), "reason": form.get("reason", "").strip()}
    try:
        site.check_form(token, form.get("token"), headers)
        with site.transaction() as session:
            owner = site.owner(session, token)
            found = assessment_of(site, session, owner)
            if found is None:
                raise RefusedError(_none_yet(site, token))
            errors = _check(found, values)
            if errors:
                raise RefusedError(page(site, token, owner, found, values, errors, 422))
            part, _, item = values["deduction"].partition(":")
            ctx = site.context_of(session, owner)
            try:
                number = file_objection(
                    session,
                    ctx,
                    load_assessment(),
                    found.period,
                    unit=found.unit,
                    item_id=int(item),
                    part=part,
                    reason=values["reason"],
                    actor=owner.actor,
                )
            except (ObjectionRefusedError, NotFoundError) as exc:
                wrong = {"deduction": str(exc)}
                raise RefusedError(page(site, token, owner, found, values, wrong, 422)) from None
            receipt = objection_receipt(session, owner, number)
            assert receipt is not None  # just filed, by this unit
            link = f"{site.settings.resolved_web_base_url}/l/{token}/objections/{number}"
            send_receipt(session, plan_of(session, owner.plan_id), owner.contact_id, receipt, link)
    except RefusedError as refused:
        return refused.response
    return RedirectResponse(f"{site.base(token)}/objections/{number}", status_code=303)


def _check(found: OwnerAssessment, values: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with the form, by field; empty when it may be recorded."""
    errors: dict[str, str] = {}
    if not found.own:
        errors["deduction"] = (
            f"本单位的事项计入{found.unit_name}的考评，请由{found.unit_name}提出申诉"
        )
    elif not found.open:
        errors["deduction"] = (
            f"{found.period.label}考评的申诉期已于{zh_date(found.deadline)}结束，不能再提出申诉"
        )
    elif values["deduction"] not in {c.value for c in found.choices}:
        errors["deduction"] = "请从列表中选择要申诉的扣分项"
    if not values["reason"]:
        errors["reason"] = "请写明申诉理由（例如：事项已按期办结，附件见某某文件）"
    elif len(values["reason"]) > MAX_REASON:
        errors["reason"] = f"申诉理由最多 {MAX_REASON} 字，现为 {len(values['reason'])} 字"
    return errors


def objection_receipt(session: Session, owner: Owner, number: int) -> Receipt | None:
    """The receipt of objection ``number`` if it is of the owner's unit (as assessed)."""
    code = assessed_of(session, owner.unit_id)[1]
    found = [o for o in objections_of(session, owner.plan_id, unit=code) if o.id == number]
    if not found:
        return None
    o = found[0]
    lines = [
        ("考评期", period_of(o.period).label),
        ("申诉项目", ASSESSMENT_PARTS[o.part]),
        ("申诉理由", o.reason),
        ("办理情况", STATUS_WORDS[o.status]),
    ]
    if o.decided_on is not None:
        lines.append(("决定", f"{zh_date(o.decided_on)}：{o.decision_reason or ''}"))
        lines.append(("得分", f"{o.score_before:.1f} → {o.score_after:.1f}"))
    return Receipt(
        number=f"{o.filed_on:%Y%m%d}-S{o.id:06d}",
        kind="objection",
        heading="申诉已登记",
        item_id=o.item_id,
        unit_id=owner.unit_id,
        milestone=o.milestone,
        title=o.title,
        actor=o.actor,
        received=zh_date(o.filed_on),
        lines=lines,
        sent_for=None,
    )


def show_objection(site: Site, token: str, number: int) -> Response:
    """GET an objection's receipt (only to its unit)."""
    try:
        with site.transaction() as session:
            owner = site.owner(session, token)
            receipt = objection_receipt(session, owner, number)
            if receipt is None:
                raise RefusedError(pages.not_found(site.prefix))
    except RefusedError as refused:
        return refused.response
    return pages.render(
        "objection_receipt.html.j2",
        prefix=site.prefix,
        base=site.base(token),
        owner=owner,
        receipt=receipt,
    )


def add_routes(app: FastAPI, site: Site, limited: Callable[[str], Response | None]) -> FastAPI:
    """``app`` with the assessment page, its objection form and the objection's receipt;
    ``limited``: the 429 page when a link sent too many forms this minute."""

    @app.get("/l/{token}/assessment", response_class=HTMLResponse)
    def assessment(token: str) -> Response:
        return show_assessment(site, token)

    @app.post("/l/{token}/assessment")
    async def objection(token: str, request: Request) -> Response:
        if (refused := limited(token)) is not None:
            return refused
        form = await request.form(max_fields=10, max_files=0)
        texts = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(post_objection, site, token, texts, dict(request.headers))

    @app.get("/l/{token}/objections/{number}", response_class=HTMLResponse)
    def receipt(token: str, number: int) -> Response:
        return show_objection(site, token, number)

    return app
