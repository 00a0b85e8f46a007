"""The plan the mail intake tests run on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from config.settings import Settings, temporary_settings
from domain.queries.sync import sync_catalog
from models.clock import frozen_time
from models.db import session_scope
from tasks_catalog.loader import load_catalog
from tests.fixtures.catalog import SYNCED_AT, CatalogWriter
from tests.fixtures.imap import Mailbox
from tests.intake.mailing import with_contacts


@pytest.fixture
def plan(
    settings: Settings, engine: Engine, write_catalog: CatalogWriter, mailbox: Mailbox
) -> Iterator[Engine]:
    """The minimal plan with contacts for 甲镇 and the coordinator, the clock held at
    :data:`SYNCED_AT`, and the mail intake pointed at this test's mailbox."""
    with frozen_time(SYNCED_AT), temporary_settings(**mailbox.settings()):
        with session_scope(engine) as session:
            sync_catalog(session, load_catalog(write_catalog(edit=with_contacts))[0])
        yield engine
