"""Personal links: sealed claims, their expiry to the second, and keys that die with revoking
or with a catalogue sync that re-creates the contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine, select

from config.settings import Settings
from domain.adapters import signing
from domain.queries.owner_links import LinkRevokedError, issue_link, open_link, revoke_links
from domain.queries.sync import sync_catalog
from domain.rules.owner_links import (
    SALT,
    LinkClaim,
    LinkExpiredError,
    LinkForgedError,
    open_token,
    seal,
)
from models.db import session_scope
from models.records import Contact
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import CatalogWriter
from tests.fixtures.web import NOW, with_village_work

KEY = b"k" * 32
CLAIM = LinkClaim("demo-plan", "v12", 3, "0123456789abcdef", NOW + timedelta(days=30))


def test_a_sealed_claim_opens_to_itself_until_its_second() -> None:
    """The claim comes back whole before its expiry, and is expired from that second on."""
    token = seal(KEY, CLAIM)
    assert open_token(KEY, token, CLAIM.expires - timedelta(seconds=1)) == CLAIM
    with pytest.raises(LinkExpiredError) as expired:
        open_token(KEY, token, CLAIM.expires)
    assert expired.value.claim == CLAIM


@pytest.mark.parametrize(
    "token",
    [
        seal(b"another key", CLAIM),
        URLSafeSerializer(KEY).dumps(["demo-plan", "v12", 3, "x", 4102444800]),  # no salt
        URLSafeSerializer(KEY, salt=SALT).dumps(["demo-plan", "v12", 3, "x", 4102444800]),
        "",
        "not a token at all",
    ],
    ids=["other-key", "other-salt", "sha1", "empty", "garbage"],
)
def test_anything_not_sealed_here_is_forged(token: str) -> None:
    """Another key, another use of the same key, another digest, or noise: forged."""
    with pytest.raises(LinkForgedError):
        open_token(KEY, token, NOW)


@pytest.mark.parametrize(
    "body",
    [{"plan": "demo-plan"}, ["demo-plan", "v12", "3", "k", 1], ["demo-plan", "v12", 3, "k", True]],
)
def test_a_signed_body_of_the_wrong_shape_is_forged(body: object) -> None:
    """Signed with the right key and salt but not a link's shape: forged, not a crash."""
    token = URLSafeSerializer(
        KEY, salt=SALT, signer_kwargs={"digest_method": __import__("hashlib").sha256}
    ).dumps(body)
    with pytest.raises(LinkForgedError):
        open_token(KEY, token, NOW)


def test_revoking_and_resyncing_end_a_contacts_links(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """A link dies when its contact's links are revoked, and when a catalogue edit re-creates
    the unit's contacts (even if a new row takes the old number)."""
    folder = write_catalog(edit=with_village_work)
    with session_scope(engine) as session:
        sync_catalog(session, load_catalog(folder)[0])
    secret = signing.workbook_secret(settings)

    def issue() -> str:
        with session_scope(engine) as session:
            return issue_link(
                session, secret, plan_id="demo-plan", unit_code="v12", contact_id=None,
                now=NOW, days=30,
            ).token  # fmt: skip

    def opens(token: str) -> bool:
        with session_scope(engine) as session:
            try:
                owner = open_link(session, secret, token, NOW + timedelta(hours=1))
            except LinkRevokedError:
                return False
        assert owner.contact_name == "赵六" and owner.unit_code == "v12"
        return True

    first = issue()
    assert opens(first) and issue() != "" and opens(first)  # issuing again keeps the key
    with session_scope(engine) as session:
        liaison = session.scalars(select(Contact.id).where(Contact.name == "赵六")).one()
        revoke_links(session, liaison)
    assert not opens(first)
    second = issue()
    assert opens(second)

    def add_a_deputy(c: dict[str, object]) -> None:
        with_village_work(c)
        for unit in c["units"]:  # type: ignore[attr-defined]
            if unit["id"] == "v12":
                unit["contacts"].append({"name": "李副", "role": "deputy"})

    with session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=add_a_deputy))[0])
    assert not opens(second)
    assert opens(issue())


def test_the_expiry_is_counted_from_issuing(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter
) -> None:
    """A link issued now for N days opens until exactly N days later."""
    with session_scope(engine) as session:
        sync_catalog(session, load_catalog(write_catalog(edit=with_village_work))[0])
        issued = issue_link(
            session, b"s" * 32, plan_id="demo-plan", unit_code="v22", contact_id=None,
            now=NOW, days=7,
        )  # fmt: skip
    assert issued.expires == NOW + timedelta(days=7) and issued.contact_name == "孙八"
    assert open_token(b"s" * 32, issued.token, datetime(2022, 1, 3, 1, 59, 59, tzinfo=UTC))
    with pytest.raises(LinkExpiredError):
        open_token(b"s" * 32, issued.token, datetime(2022, 1, 3, 2, tzinfo=UTC))
