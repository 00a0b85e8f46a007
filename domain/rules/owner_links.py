"""Personal links to the owner's page (点击填报): what a link says and how it is sealed.

A link names one plan, one unit and one contact, carries the contact's current ``link_key`` and
an expiry instant, and is signed with itsdangerous (HMAC-SHA256) under a key the caller passes in. A
link that does not verify is forged (or cut short); one past its instant is expired; whether its
key is still the contact's (not revoked) is for the caller to check against the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "duban.owner-link.v1"
"""Separates link signatures from every other use of the same secret (workbooks, rows)."""


@dataclass(frozen=True)
class LinkClaim:
    """What a personal link grants: one contact of one unit of one plan, until ``expires``."""

    plan: str
    unit: str
    contact_id: int
    key: str
    expires: datetime


class LinkError(Exception):
    """A link that grants nothing."""


class LinkForgedError(LinkError):
    """The link was not made by duban with this key (edited, cut short, or made up)."""


class LinkExpiredError(LinkError):
    """The link was genuine but its time is over; ``claim`` is what it granted."""

    def __init__(self, claim: LinkClaim) -> None:
        super().__init__(f"link expired at {claim.expires.isoformat()}")
        self.claim = claim


def _serializer(secret: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def seal(secret: bytes, claim: LinkClaim) -> str:
    """The URL-safe token of a claim (the last part of the link)."""
    body = [
        claim.plan,
        claim.unit,
        claim.contact_id,
        claim.key,
        int(claim.expires.timestamp()),
    ]
    return str(_serializer(secret).dumps(body))


def open_token(secret: bytes, token: str, now: datetime) -> LinkClaim:
    """The claim a token carries: LinkForgedError if it does not verify, LinkExpiredError if it
    verifies but ``now`` is past its expiry."""
    try:
        body = _serializer(secret).loads(token)
    except BadSignature:
        raise LinkForgedError("signature does not match") from None
    if not (
        isinstance(body, list)
        and len(body) == 5
        and all(isinstance(v, str) for v in (body[0], body[1], body[3]))
        and all(isinstance(v, int) and not isinstance(v, bool) for v in (body[2], body[4]))
    ):
        raise LinkForgedError("signed, but not a personal link")
    plan, unit, contact_id, key, expires_at = body
    claim = LinkClaim(plan, unit, contact_id, key, datetime.fromtimestamp(expires_at, UTC))
    if now >= claim.expires:
        raise LinkExpiredError(claim)
    return claim
