"""The item page's other forms — an evidence file, 办结申请, 延期申请 — and the receipt page.

Each form is checked like the progress form (the link, its own token, not from another site),
refused with the item page again and the reason beside its field (nothing written), or answered
with a redirect to its receipt (回执), whose message goes to the submitter's outbox.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import RedirectResponse, Response

from domain.adapters.evidence_store import EvidenceRefusedError, store
from domain.queries.evidence_files import EvidenceView, closing_files, count_files, record_evidence
from domain.queries.extension_requests import request_extension
from domain.queries.owner_actions import submit_closing
from domain.queries.plans import plan_of
from domain.queries.receipts import find_receipt, receipt_number
from domain.rules.lifecycle import ChangedMeanwhileError, TransitionError
from domain.rules.owner_forms import closing_refusal, extension_ask, shown_name
from duban.web import pages
from duban.web.site import RefusedError, Site, changed_meanwhile
from models import clock

MAX_LISTED = 5
"""Files named in a 办结申请's 佐证材料 text; the rest are counted."""


def too_large(site: Site) -> str:
    """The message for a file over the size limit."""
    return f"文件太大，上限 {site.settings.web_upload_mb} MB；照片请压缩，扫描件请降低分辨率后上传"


def post_upload(
    site: Site,
    token: str,
    item_id: int,
    form: Mapping[str, str],
    upload: tuple[str, bytes] | None,
    headers: Mapping[str, str],
    refusal: str | None = None,
) -> Response:
    """POST one evidence file (``upload``: the device's name and the bytes): kept by content,
    recorded against the item under the contact's name; ``refusal``: the route already found
    it too large."""
    try:
        if refusal is None:  # a refusal changes nothing: it needs no proof of origin
            site.check_form(token, form.get("token"), headers)
        with site.transaction() as session:
            owner = site.owner(session, token)
            item = site.item_of(site.page_of(session, owner), item_id, token)
            error = refusal
            if error is None and (upload is None or not upload[1]):
                error = "请先选择要上传的文件（PDF、JPG、PNG、Word 或 Excel）"
            held = count_files(session, item_id)
            if error is None and held >= site.settings.web_upload_files:
                error = (
                    f"本事项已有 {held} 个佐证材料文件，达到上限；如需更换或补充，"
                    "请联系督办协调单位"
                )
            if error is None and upload is not None:
                try:
                    kept = store(
                        site.settings.resolved_evidence,
                        upload[1],
                        max_bytes=site.settings.web_upload_mb * 1024 * 1024,
                    )
                except EvidenceRefusedError as exc:
                    error = str(exc)
            if error is not None or upload is None:
                status = 413 if refusal is not None else 422
                raise site.refused_item(session, token, item, {}, {"file": error or ""}, status)
            view, new = record_evidence(
                session,
                plan_id=owner.plan_id,
                item_id=item_id,
                unit_id=owner.unit_id,
                contact_id=owner.contact_id,
                actor=owner.actor,
                name=shown_name(upload[0]),
                kind=kept.kind.value,
                size=kept.size,
                sha256=kept.sha256,
                timezone=owner.timezone,
            )
            number = receipt_number(
                "evidence", view.id, clock.local_date(view.received_at, owner.timezone)
            )
            if new:
                site.send_receipt(session, owner, token, plan_of(session, owner.plan_id), number)
    except RefusedError as refused:
        return refused.response
    again = "" if new else "?again=1"
    return RedirectResponse(site.receipt_url(token, number) + again, status_code=303)


def evidence_text(files: list[EvidenceView]) -> str:
    """What a 办结申请 says under 佐证材料: the files uploaded on the page."""
    names = "、".join(f.name for f in files[:MAX_LISTED])
    more = f"等 {len(files)} 个文件" if len(files) > MAX_LISTED else f"共 {len(files)} 个文件"
    return f"网页上传：{names}（{more}）"


def post_closing(
    site: Site, token: str, item_id: int, form: Mapping[str, str], headers: Mapping[str, str]
) -> Response:
    """POST 办结申请: refused until the milestone's evidence has a file
    (:func:`domain.rules.owner_forms.closing_refusal`), then landed as a report of 已完成
    through the same checks and lifecycle as every report."""
    values = {"closing_note": form.get("closing_note", "")}
    try:
        site.check_form(token, form.get("token"), headers)
        with site.transaction() as session:
            owner = site.owner(session, token)
            item = site.item_of(site.page_of(session, owner), item_id, token)
            files, returned = closing_files(session, item_id)
            refusal = closing_refusal(item.evidence, len(files), since_return=returned)
            if refusal is not None:
                raise site.refused_item(session, token, item, values, {"closing": refusal})
            plan = plan_of(session, owner.plan_id)
            try:
                landed, errors = submit_closing(
                    session,
                    plan,
                    unit_code=owner.unit_code,
                    item_id=item_id,
                    note=values["closing_note"],
                    evidence=evidence_text(files) if files else "",
                    actor=owner.actor,
                )
            except ChangedMeanwhileError:
                raise RefusedError(changed_meanwhile(site.prefix, site.base(token))) from None
            if landed is None:
                shown = {"closing_note" if k == "note" else "closing": v for k, v in errors.items()}
                raise site.refused_item(session, token, item, values, shown)
            number = site.receipt_for_report(session, owner, token, plan, item_id)
    except RefusedError as refused:
        return refused.response
    return RedirectResponse(site.receipt_url(token, number), status_code=303)


def post_extension(
    site: Site, token: str, item_id: int, form: Mapping[str, str], headers: Mapping[str, str]
) -> Response:
    """POST 延期申请: a proposed date and a reason, kept pending for the coordinator
    (``duban extension-requests``)."""
    values = {"proposed": form.get("proposed", ""), "reason": form.get("reason", "")}
    try:
        site.check_form(token, form.get("token"), headers)
        with site.transaction() as session:
            owner = site.owner(session, token)
            item = site.item_of(site.page_of(session, owner), item_id, token)
            ask, errors = extension_ask(
                values["proposed"],
                values["reason"],
                current_due=item.due,
                today=clock.local_date(clock.now(), owner.timezone),
            )
            if ask is None:
                raise site.refused_item(session, token, item, values, errors)
            try:
                row = request_extension(
                    session,
                    plan_id=owner.plan_id,
                    item_id=item_id,
                    unit_id=owner.unit_id,
                    contact_id=owner.contact_id,
                    actor=owner.actor,
                    proposed=ask.proposed,
                    reason=ask.reason,
                    timezone=owner.timezone,
                )
            except TransitionError as exc:
                shown = {"extension": str(exc)}
                raise site.refused_item(session, token, item, values, shown) from None
            number = receipt_number("extension", row.id, row.requested_on)
            site.send_receipt(session, owner, token, plan_of(session, owner.plan_id), number)
    except RefusedError as refused:
        return refused.response
    return RedirectResponse(site.receipt_url(token, number), status_code=303)


def show_receipt(site: Site, token: str, number: str, query: Mapping[str, str]) -> Response:
    """GET a receipt of the link's unit (404 for any other number)."""
    try:
        with site.transaction() as session:
            owner = site.owner(session, token)
            receipt = find_receipt(session, number, owner.unit_id)
            if receipt is None:
                return pages.message(
                    site.prefix,
                    404,
                    "没有这份回执",
                    "没有找到这个回执编号，或它不属于本单位。",
                    f"请返回本单位的事项列表：{site.base(token)}",
                )
    except RefusedError as refused:
        return refused.response
    return pages.render(
        "receipt.html.j2",
        prefix=site.prefix,
        base=site.base(token),
        owner=owner,
        receipt=receipt,
        again=query.get("again") == "1",
    )
