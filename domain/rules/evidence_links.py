"""Links that let the coordinator open an evidence file from the 待核验销号 queue.

A link names one evidence file by its record number and carries an expiry instant, signed with
itsdangerous (HMAC-SHA256) under the same key as the owners' links with a salt of its own. The
file itself is found by that number in the database: nothing of a path ever comes from a link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "duban.evidence-link.v1"
"""Separates these signatures from the owners' links, workbooks and rows under the same key."""
EVIDENCE_LINK_DAYS = 14
"""How long a queue page's links open their files: the page is published again every working
day, and the longest holiday (国庆, 7 days and its weekends) fits well inside."""
ROUTE = "/coordinator/evidence"
"""Where the owner's site serves evidence files to the coordinator."""


@dataclass(frozen=True)
class EvidenceClaim:
    """What an evidence link grants: reading the file numbered ``file_id`` until ``expires``."""

    file_id: int
    expires: datetime


class EvidenceLinkError(Exception):
    """A link that grants nothing."""


class EvidenceLinkForgedError(EvidenceLinkError):
    """Not made by duban with this key, or made for another file."""


class EvidenceLinkExpiredError(EvidenceLinkError):
    """Genuine, but its time is over."""

    def __init__(self, claim: EvidenceClaim) -> None:
        super().__init__(f"evidence link expired at {claim.expires.isoformat()}")
        self.claim = claim


def _serializer(secret: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def expiry(now: datetime, days: int = EVIDENCE_LINK_DAYS) -> datetime:
    """When links issued at ``now`` stop working."""
    return now + timedelta(days=days)


def seal_evidence(secret: bytes, claim: EvidenceClaim) -> str:
    """The URL-safe token of a claim (the link's ``t`` parameter)."""
    return str(_serializer(secret).dumps([claim.file_id, int(claim.expires.timestamp())]))


def open_evidence(secret: bytes, token: str, file_id: int, now: datetime) -> EvidenceClaim:
    """The claim of a token presented for ``file_id``: EvidenceLinkForgedError when it does not
    verify or names another file, EvidenceLinkExpiredError when ``now`` is past its expiry."""
    try:
        body = _serializer(secret).loads(token)
    except BadSignature:
        raise EvidenceLinkForgedError("signature does not match") from None
    if not (
        isinstance(body, list)
        and len(body) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in body)
    ):
        raise EvidenceLinkForgedError("signed, but not an evidence link")
    if body[0] != file_id:
        raise EvidenceLinkForgedError("made for another file")
    claim = EvidenceClaim(body[0], datetime.fromtimestamp(body[1], UTC))
    if now >= claim.expires:
        raise EvidenceLinkExpiredError(claim)
    return claim


def evidence_url(base_url: str, secret: bytes, file_id: int, expires: datetime) -> str:
    """The full link to one evidence file on the owner's site at ``base_url``."""
    token = seal_evidence(secret, EvidenceClaim(file_id, expires))
    return f"{base_url.rstrip('/')}{ROUTE}/{file_id}?t={quote(token, safe='')}"
