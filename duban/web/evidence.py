"""Evidence files for the coordinator, opened from the links of the 待核验销号 queue page.

The link's signed token names the file's record number; the file is read from the evidence
store by that record's checksum (never a path from the request) and checked against it. Images
and PDF open in the browser, Word and Excel files download; nothing served may run a script.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from starlette.responses import Response

from config.errors import NotFoundError
from domain.adapters.evidence_store import EvidenceKind, EvidenceRefusedError, open_stored
from domain.queries.desk import desk_file
from domain.rules.evidence_links import (
    EvidenceLinkExpiredError,
    EvidenceLinkForgedError,
    open_evidence,
)
from duban.web import pages
from duban.web.site import Site
from models import clock

log = logging.getLogger("duban.web")

MEDIA_TYPES = {
    EvidenceKind.PDF: "application/pdf",
    EvidenceKind.JPEG: "image/jpeg",
    EvidenceKind.PNG: "image/png",
    EvidenceKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    EvidenceKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SHOWN_INLINE = frozenset({EvidenceKind.PDF, EvidenceKind.JPEG, EvidenceKind.PNG})
"""Kinds a browser shows itself; the others are saved as files."""
FILE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; "
    "frame-ancestors 'none'"
)
"""A served file may show itself (an image, Chromium's PDF viewer) and nothing else: no script,
no form, no other origin."""


def serve_evidence(site: Site, file_id: int, token: str) -> Response:
    """GET one evidence file: 403 in Chinese when the link is not genuine, is for another file
    or has expired; 404 when the record or its stored file is missing or no longer matches."""
    try:
        open_evidence(site.secret, token, file_id, clock.now())
    except EvidenceLinkForgedError:
        return pages.message(
            site.prefix,
            403,
            "链接无效",
            "这个佐证材料链接不完整或已被改动，无法打开。复制链接时请完整复制。",
            "请从 Prefect 界面“待核验销号”清单的最新一期中点击文件名打开。",
        )
    except EvidenceLinkExpiredError:
        return pages.message(
            site.prefix,
            403,
            "链接已过期",
            "这个佐证材料链接已过有效期。",
            "请从 Prefect 界面“待核验销号”清单的最新一期中点击文件名打开，"
            "或在服务器上运行 `duban evidence 佐证编号`。",
        )
    try:
        with site.transaction() as session:
            record = desk_file(session, file_id)
        kind = EvidenceKind(record.kind)
        data = open_stored(site.settings.resolved_evidence, record.sha256, kind)
    except (NotFoundError, FileNotFoundError, ValueError) as exc:
        # ValueError: EvidenceRefusedError (changed on disk) or a kind duban does not keep
        log.warning("evidence file %d not served: %s", file_id, type(exc).__name__)
        if isinstance(exc, NotFoundError):
            why = f"{exc}。"
        elif isinstance(exc, EvidenceRefusedError):
            why = f"佐证材料 {file_id}：{exc}。"
        else:
            why = f"佐证材料 {file_id} 的文件不在存放目录中，请联系系统管理员。"
        return pages.message(site.prefix, 404, "找不到佐证材料", why)
    log.info("evidence file %d served to the coordinator", file_id)
    disposition = "inline" if kind in SHOWN_INLINE else "attachment"
    return Response(
        data,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Content-Disposition": f"{disposition}; {filename_parameters(record.name, kind)}",
            "Content-Security-Policy": FILE_POLICY,
            "X-Content-Type-Options": "nosniff",
        },
    )


def filename_parameters(name: str, kind: EvidenceKind) -> str:
    """The sender's file name (its last part, with the stored kind as extension) as the
    ``filename`` parameters of Content-Disposition: an ASCII stand-in and the UTF-8 name."""
    stem = Path(Path(name.replace("\\", "/")).name).stem.strip(". ") or "evidence"
    utf8 = quote(f"{stem}.{kind.value}", safe="")
    return f"filename=\"evidence.{kind.value}\"; filename*=UTF-8''{utf8}"
