"""The FastAPI application of ``duban web``: thin routes over :class:`duban.web.site.Site`.

Every response carries a Content-Security-Policy that allows no script at all and only this
site's stylesheet, and is kept out of caches and referrers (the path holds a personal link).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from config.settings import Settings
from domain.rules.evidence_links import ROUTE as EVIDENCE_ROUTE
from duban.web import objections, pages, submissions
from duban.web.evidence import serve_evidence
from duban.web.ratelimit import RateLimit
from duban.web.site import Site

log = logging.getLogger("duban.web")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
MAX_FORM_FIELDS = 500
"""More form fields than a unit has items to tick: the rest is not read."""
FORM_OVERHEAD = 64 * 1024
"""What an upload form may carry besides its file (boundaries, the token, the file's name)."""


def create_app(settings: Settings) -> FastAPI:
    """The owner's site for these settings (database, signing key, base URL)."""
    site = Site.of(settings)
    limit = RateLimit(settings.web_posts_per_minute)
    max_bytes = settings.web_upload_mb * 1024 * 1024

    def limited(token: str) -> Response | None:
        """The 429 page when this link has sent too many forms this minute."""
        if limit.allow(token):
            return None
        return pages.too_many(site.prefix, settings.web_posts_per_minute)

    stylesheet = pages.STYLESHEET.read_text(encoding="utf-8")
    app = FastAPI(title="督办 · 进展填报", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:
            return pages.message(site.prefix, 405, "请求方式不对", "请从页面上的按钮提交。")
        return pages.not_found(site.prefix)

    @app.exception_handler(RequestValidationError)
    async def bad_address(_request: Request, _exc: RequestValidationError) -> Response:
        return pages.not_found(site.prefix)  # an item number that is not a number, say

    @app.exception_handler(Exception)
    async def fault(_request: Request, exc: Exception) -> Response:
        log.error("owner page fault", exc_info=exc)
        return pages.fault(site.prefix)

    @app.get("/", response_class=HTMLResponse)
    def index() -> Response:
        return pages.message(
            site.prefix,
            200,
            "督办 · 进展填报",
            "请打开提醒消息中的“点击填报”链接，进入本单位的事项页面。",
        )

    @app.get("/static/web.css")
    def css() -> Response:
        return Response(
            stylesheet,
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @app.get("/l/{token}", response_class=HTMLResponse)
    def owner(token: str, request: Request) -> Response:
        return site.show_owner(token, dict(request.query_params))

    @app.get("/l/{token}/items/{item_id}", response_class=HTMLResponse)
    def item(token: str, item_id: int) -> Response:
        return site.show_item(token, item_id)

    @app.post("/l/{token}/ack")
    async def ack(token: str, request: Request) -> Response:
        if (refused := limited(token)) is not None:
            return refused
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
        ids = [v for v in form.getlist("item") if isinstance(v, str)]
        texts = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(site.post_ack, token, texts, ids, dict(request.headers))

    @app.post("/l/{token}/items/{item_id}")
    async def report(token: str, item_id: int, request: Request) -> Response:
        if (refused := limited(token)) is not None:
            return refused
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0)
        texts = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(
            site.post_report, token, item_id, texts, dict(request.headers)
        )

    @app.post("/l/{token}/items/{item_id}/files")
    async def upload(token: str, item_id: int, request: Request) -> Response:
        if (refused := limited(token)) is not None:
            return refused
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > max_bytes + FORM_OVERHEAD:
            # too large (or of unknown length): answered without reading it
            return await run_in_threadpool(
                submissions.post_upload,
                site,
                token,
                item_id,
                {},
                None,
                dict(request.headers),
                submissions.too_large(site),
            )
        upload = None
        async with request.form(max_files=1, max_fields=10) as form:  # closes the spooled file
            texts = {k: v for k, v in form.items() if isinstance(v, str)}
            sent = form.get("file")
            if isinstance(sent, UploadFile):
                upload = (sent.filename or "", await sent.read(max_bytes + 1))
        return await run_in_threadpool(
            submissions.post_upload, site, token, item_id, texts, upload, dict(request.headers)
        )

    @app.post("/l/{token}/items/{item_id}/closing")
    async def closing(token: str, item_id: int, request: Request) -> Response:
        if (refused := limited(token)) is not None:
            return refused
        form = await request.form(max_fields=10, max_files=0)
        texts = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(
            submissions.post_closing, site, token, item_id, texts, dict(request.headers)
        )

    @app.post("/l/{token}/items/{item_id}/extension")
    async def extension(token: str, item_id: int, request: Request) -> Response:
        if (refused := limited(token)) is not None:
            return refused
        form = await request.form(max_fields=10, max_files=0)
        texts = {k: v for k, v in form.items() if isinstance(v, str)}
        return await run_in_threadpool(
            submissions.post_extension, site, token, item_id, texts, dict(request.headers)
        )

    @app.get("/l/{token}/receipts/{number}", response_class=HTMLResponse)
    def receipt(token: str, number: str, request: Request) -> Response:
        return submissions.show_receipt(site, token, number, dict(request.query_params))

    @app.get(f"{EVIDENCE_ROUTE}/{{file_id}}")
    def evidence(file_id: int, t: str = "") -> Response:
        return serve_evidence(site, file_id, t)

    return objections.add_routes(app, site, limited)
