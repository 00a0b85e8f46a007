"""The coordinator's evidence links: a link opens its own file until its expiry and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.rules.evidence_links import (
    EvidenceClaim,
    EvidenceLinkExpiredError,
    EvidenceLinkForgedError,
    evidence_url,
    expiry,
    open_evidence,
    seal_evidence,
)
from domain.rules.owner_links import LinkClaim, seal

KEY = b"k" * 32
ISSUED = datetime(2021, 12, 27, 2, tzinfo=UTC)


def test_a_link_opens_its_file_until_it_expires() -> None:
    """Valid from issue to one second before the expiry instant; expired from that instant on."""
    claim = EvidenceClaim(7, expiry(ISSUED, days=14))
    token = seal_evidence(KEY, claim)
    last = ISSUED + timedelta(days=14, seconds=-1)
    assert open_evidence(KEY, token, 7, ISSUED) == claim
    assert open_evidence(KEY, token, 7, last) == claim
    with pytest.raises(EvidenceLinkExpiredError) as expired:
        open_evidence(KEY, token, 7, ISSUED + timedelta(days=14))
    assert expired.value.claim == claim


def test_a_link_is_for_one_file_only() -> None:
    """The same token presented for another file's number is refused as forged."""
    token = seal_evidence(KEY, EvidenceClaim(7, expiry(ISSUED)))
    with pytest.raises(EvidenceLinkForgedError):
        open_evidence(KEY, token, 8, ISSUED)


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-5] + ("A" if t[-5] != "A" else "B") + t[-4:],  # the signature edited
        lambda t: t[: len(t) // 2],  # cut short in copying
        lambda _: "",  # no token at all
    ],
    ids=["edited", "cut-short", "missing"],
)
def test_an_edited_token_is_forged(change: object) -> None:
    token = seal_evidence(KEY, EvidenceClaim(7, expiry(ISSUED)))
    with pytest.raises(EvidenceLinkForgedError):
        open_evidence(KEY, change(token), 7, ISSUED)  # type: ignore[operator]


def test_another_key_or_another_kind_of_link_opens_nothing() -> None:
    """A token under another key, or an owner's personal link under the same key, is forged."""
    token = seal_evidence(b"x" * 32, EvidenceClaim(7, expiry(ISSUED)))
    with pytest.raises(EvidenceLinkForgedError):
        open_evidence(KEY, token, 7, ISSUED)
    personal = seal(KEY, LinkClaim("demo-plan", "v12", 7, "key", expiry(ISSUED)))
    with pytest.raises(EvidenceLinkForgedError):
        open_evidence(KEY, personal, 7, ISSUED)


def test_the_url_is_the_sites_route_with_the_token_as_its_only_parameter() -> None:
    url = evidence_url("https://duban.example.cn/tb/", KEY, 7, expiry(ISSUED))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "duban.example.cn",
        "/tb/coordinator/evidence/7",
    )
    (token,) = parse_qs(parts.query)["t"]
    assert open_evidence(KEY, token, 7, ISSUED).file_id == 7
