"""What each page of ``duban web`` does, synchronously, one transaction per request.

The routes (:mod:`duban.web.app`) only read the request and call these. A link is checked on
every request; a form must carry the link's own token (a page of another site cannot know it)
and must not come from another site (``Sec-Fetch-Site``). Refusals change nothing.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, RedirectResponse, Response

from config.assessment import load_assessment
from config.settings import Settings
from domain.adapters.signing import workbook_secret
from domain.queries.context import build_context
from domain.queries.evidence_files import file_counts
from domain.queries.extension_requests import pending_dates
from domain.queries.owner_actions import (
    REPORT_FIELDS,
    NotTheUnitsError,
    acknowledge,
    report_progress,
)
from domain.queries.owner_assessment import owner_assessment
from domain.queries.owner_links import LinkRevokedError, Owner, coordinator_of, open_link
from domain.queries.owner_page import OwnerItem, OwnerPage, owner_page
from domain.queries.plans import plan_of
from domain.queries.receipts import find_receipt, latest_report_id, receipt_number
from domain.rules.context import Context, LightPolicy
from domain.rules.glossary import zh_date
from domain.rules.lifecycle import ChangedMeanwhileError
from domain.rules.owner_links import LinkExpiredError, LinkForgedError
from domain.services.receipts import send_receipt
from duban.web import pages
from duban.web.extras import ItemExtras, item_extras
from duban.web.twins import twin_pages
from models import clock
from models.db import engine_for, session_scope
from models.orm import Plan

FIELDS = (
    ("percent", "本期进度%", "0–100 的整数；不填则沿用当前进度"),
    ("note", "进展情况", ""),
    ("problem", "存在问题", "填报“受阻”、进度下降或状态倒退时必须写明原因"),
    ("next_steps", "下步计划", ""),
)
"""The progress form's fields after 本期状态: (name, label, hint)."""
assert tuple(n for n, _, _ in FIELDS) == REPORT_FIELDS[1:]
CURRENT_AS_REPORTED = {
    "assigned": "not_started",
    "acknowledged": "not_started",
    "in_progress": "in_progress",
    "returned": "in_progress",
    "extended": "in_progress",
    "blocked": "blocked",
}
"""The state the form starts on, from the item's current state."""


_TZ = "Asia/Shanghai"  # an expired link's plan may be gone: its dates are read in China's zone


class RefusedError(Exception):
    """Stop here with this page; the transaction rolls back."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass(frozen=True)
class Site:
    """The owner's site on one database, under one key."""

    settings: Settings
    secret: bytes
    prefix: str
    """The path the site sits under behind the proxy (from ``DUBAN_WEB_BASE_URL``), or ``""``."""

    @classmethod
    def of(cls, settings: Settings) -> Site:
        """The site for these settings (the database, the signing key, the base URL)."""
        path = urlsplit(settings.resolved_web_base_url).path.rstrip("/")
        return cls(settings, workbook_secret(settings), path)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session per request, committed unless a RefusedError (or anything) is raised."""
        with session_scope(engine_for(self.settings.resolved_database_url)) as session:
            yield session

    def base(self, token: str) -> str:
        """The owner's page of a link, as a path."""
        return f"{self.prefix}/l/{token}"

    def owner(self, session: Session, token: str) -> Owner:
        """Who the link speaks for, or RefusedError with the page that says why not."""
        try:
            return open_link(session, self.secret, token, clock.now())
        except LinkForgedError:
            raise RefusedError(pages.forged(self.prefix, coordinator_of(session, None))) from None
        except LinkExpiredError as exc:
            plan = session.get(Plan, exc.claim.plan)
            when = zh_date(clock.local_date(exc.claim.expires, plan.timezone if plan else _TZ))
            who = coordinator_of(session, exc.claim.plan)
            raise RefusedError(pages.expired(self.prefix, who, when)) from None
        except LinkRevokedError as exc:
            who = coordinator_of(session, exc.plan)
            raise RefusedError(pages.revoked(self.prefix, who)) from None

    def context_of(self, session: Session, owner: Owner) -> Context:
        """The owner's plan today."""
        policy = LightPolicy(self.settings.yellow_workdays, self.settings.pace_margin)
        return build_context(session, owner.plan_id, clock.today(owner.timezone), policy)

    def page_of(self, session: Session, owner: Owner) -> OwnerPage:
        """The owner's items today."""
        return owner_page(session, self.context_of(session, owner), owner.unit_id)

    def item_of(self, page: OwnerPage, item_id: int, token: str) -> OwnerItem:
        """One item of the page, or RefusedError with a 404 page."""
        found = next((i for i in page.urgent + page.others if i.id == item_id), None)
        if found is None:
            raise RefusedError(pages.not_the_units(self.prefix, self.base(token)))
        return found

    def check_form(self, token: str, posted: str | None, headers: Mapping[str, str]) -> None:
        """RefusedError unless the form carries the link's own token and came from this site."""
        same = posted is not None and hmac.compare_digest(posted.encode(), token.encode())
        if not same or headers.get("sec-fetch-site", "same-origin") == "cross-site":
            raise RefusedError(pages.cross_site(self.prefix))

    # pages -----------------------------------------------------------------------------------

    def show_owner(self, token: str, query: Mapping[str, str]) -> Response:
        """GET the owner's page: the unit's items, and what the last action did."""
        try:
            with self.transaction() as session:
                owner = self.owner(session, token)
                page = self.page_of(session, owner)
                twins = twin_pages(session, self, owner)
                shown = [page, *(t.page for t in twins)]
                ids = [i.id for p in shown for i in p.urgent + p.others]
                files, extending = file_counts(session, ids), pending_dates(session, ids)
                assessment = owner_assessment(
                    session, self.context_of(session, owner), load_assessment(), owner.unit_id
                )
        except RefusedError as refused:
            return refused.response
        return pages.render(
            "owner.html.j2",
            prefix=self.prefix,
            base=self.base(token),
            token=token,
            owner=owner,
            expires=clock.local_date(owner.expires, owner.timezone),
            page=page,
            ackable=any(i.can_ack for i in page.urgent),
            notice=_notice(query),
            files=files,
            extending=extending,
            assessment=assessment,
            twins=twins,
        )

    def show_item(self, token: str, item_id: int) -> Response:
        """GET one item with its progress form (filled in with where it stands), its evidence
        files and the 办结申请 and 延期申请 forms."""
        try:
            with self.transaction() as session:
                owner = self.owner(session, token)
                item = self.item_of(self.page_of(session, owner), item_id, token)
                extras = item_extras(session, item, self.settings)
        except RefusedError as refused:
            return refused.response
        return self.item_page(token, item, extras, _as_it_stands(item), {}, 200)

    def item_page(
        self,
        token: str,
        item: OwnerItem,
        extras: ItemExtras,
        form: Mapping[str, str],
        errors: Mapping[str, str],
        status: int,
    ) -> HTMLResponse:
        """The item page; ``form`` and ``errors`` keyed by the fields of all its forms."""
        return pages.render(
            "item.html.j2",
            status,
            prefix=self.prefix,
            base=self.base(token),
            token=token,
            item=item,
            extras=extras,
            form=form,
            errors=errors,
            fields=FIELDS,
        )

    def refused_item(
        self,
        session: Session,
        token: str,
        item: OwnerItem,
        form: Mapping[str, str],
        errors: Mapping[str, str],
        status: int = 422,
    ) -> RefusedError:
        """The item page again with ``errors`` beside their fields, to raise (rolls back)."""
        extras = item_extras(session, item, self.settings)
        shown = {**_as_it_stands(item), **form}  # another form's refusal keeps this one filled
        return RefusedError(self.item_page(token, item, extras, shown, errors, status))

    def receipt_url(self, token: str, number: str) -> str:
        """Where the receipt of ``number`` is shown, as a path."""
        return f"{self.base(token)}/receipts/{number}"

    def post_ack(
        self, token: str, form: Mapping[str, str], ids: list[str], headers: Mapping[str, str]
    ) -> Response:
        """POST 签收 of the ticked items; back to the page with how many (303)."""
        try:
            self.check_form(token, form.get("token"), headers)
            try:
                item_ids = sorted({int(i) for i in ids})
            except ValueError:
                raise RefusedError(pages.not_the_units(self.prefix, self.base(token))) from None
            if not item_ids:
                return RedirectResponse(f"{self.base(token)}?signed=0", status_code=303)
            with self.transaction() as session:
                owner = self.owner(session, token)
                try:
                    done = acknowledge(
                        session,
                        unit_id=owner.unit_id,
                        item_ids=item_ids,
                        actor=owner.actor,
                        timezone=owner.timezone,
                    )
                except NotTheUnitsError:
                    raise RefusedError(pages.not_the_units(self.prefix, self.base(token))) from None
                except ChangedMeanwhileError:
                    raise RefusedError(changed_meanwhile(self.prefix, self.base(token))) from None
        except RefusedError as refused:
            return refused.response
        signed = len(item_ids) - done.already
        return RedirectResponse(
            f"{self.base(token)}?signed={signed}&already={done.already}", status_code=303
        )

    def post_report(
        self, token: str, item_id: int, form: Mapping[str, str], headers: Mapping[str, str]
    ) -> Response:
        """POST a progress report on one item: landed whole (303 to the page) or shown again
        with each error beside its field (422), nothing written."""
        values = {f: form.get(f, "") for f in REPORT_FIELDS}
        try:
            self.check_form(token, form.get("token"), headers)
            with self.transaction() as session:
                owner = self.owner(session, token)
                item = self.item_of(self.page_of(session, owner), item_id, token)
                plan = plan_of(session, owner.plan_id)
                try:
                    landed, errors = report_progress(
                        session,
                        plan,
                        unit_code=owner.unit_code,
                        item_id=item_id,
                        form=values,
                        actor=owner.actor,
                    )
                except ChangedMeanwhileError:
                    raise RefusedError(changed_meanwhile(self.prefix, self.base(token))) from None
                if landed is None:
                    raise self.refused_item(session, token, item, values, errors)
                number = self.receipt_for_report(session, owner, token, plan, item_id)
        except RefusedError as refused:
            return refused.response
        return RedirectResponse(self.receipt_url(token, number), status_code=303)

    def receipt_for_report(
        self, session: Session, owner: Owner, token: str, plan: Plan, item_id: int
    ) -> str:
        """The receipt number of the report just landed on ``item_id``; its message written."""
        report_id, day = latest_report_id(session, item_id)
        number = receipt_number("report", report_id, day)
        self.send_receipt(session, owner, token, plan, number)
        return number

    def send_receipt(
        self, session: Session, owner: Owner, token: str, plan: Plan, number: str
    ) -> None:
        """Write the receipt ``number`` to the submitter's outbox (if they have an address)."""
        receipt = find_receipt(session, number, owner.unit_id)
        assert receipt is not None  # just written, by this unit
        link = f"{self.settings.resolved_web_base_url}/l/{token}/receipts/{number}"
        send_receipt(session, plan, owner.contact_id, receipt, link)


def changed_meanwhile(prefix: str, home: str) -> HTMLResponse:
    return pages.message(
        prefix,
        409,
        "事项刚被更新",
        "您提交时，这个事项刚被他人更新，本次提交未保存。",
        f"请返回事项列表查看最新情况后重新操作：{home}",
    )


def _as_it_stands(item: OwnerItem) -> dict[str, str]:
    """The progress form filled in with where the item stands."""
    return {"state": CURRENT_AS_REPORTED.get(item.state.value, ""), "percent": str(item.percent)}


def _notice(query: Mapping[str, str]) -> str | None:
    """What the last action did, from the redirect's query (numbers only, never echoed text)."""
    if (signed := query.get("signed", "")).isdigit():
        already = query.get("already", "")
        if signed == "0" and already in {"", "0"}:
            return "未选择事项：请勾选要签收的事项后再提交。"
        extra = (
            f"（另有 {int(already)} 项此前已签收）" if already.isdigit() and int(already) else ""
        )
        return f"已签收 {int(signed)} 项事项，已记入留痕{extra}。"
    return None
