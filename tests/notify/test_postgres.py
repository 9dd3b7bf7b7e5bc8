"""The consent store, the notifications dedupe and the call-back tickets on PostgreSQL (the cluster's database)."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Iterator

import pytest
import sqlalchemy as sa

from infra import db
from knowledge.hours import TZ
from onestop.handoffs import callbacks
from onestop.notify import consent, records
from tests.conftest import PG_SERVER


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh schema of the local PostgreSQL (dropped afterwards); FAILS when no server runs."""
    schema = f"notify_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_claim_consent_and_tickets_on_postgres(pg_url: str) -> None:
    assert records.claim("k1", "dossier_status", sender_ref="u1", channel="zalo", url=pg_url)
    assert not records.claim("k1", "dossier_status", sender_ref="u1", channel="zalo", url=pg_url)  # in flight
    records.finish("k1", records.ROUTE_NONE, records.SKIPPED, "outside_window: no ZNS consent", url=pg_url)
    assert records.claim("k1", "dossier_status", sender_ref="u1", channel="zalo", url=pg_url)  # nothing went out
    records.finish("k1", records.ROUTE_ZNS, records.SENT, "msg_id 1", "300002", url=pg_url)
    assert not records.claim("k1", "dossier_status", sender_ref="u1", channel="zalo", url=pg_url)
    assert records.counts(pg_url) == {("zns", "sent"): 1}

    consent.record_consent("z1", "0912345678", consent.PURPOSES, url=pg_url)
    consent.record_consent("z1", "0987654321", consent.DOSSIER_STATUS, url=pg_url)
    assert consent.consented_phone("z1", consent.DOSSIER_STATUS, pg_url) == "0987654321"
    assert consent.withdraw_consent("z1", url=pg_url) == 3 and not consent.has_consent("z1", "dossier_status",
                                                                                       url=pg_url)

    # a handoff_callbacks table from before tickets
    engine = db.get_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE handoff_callbacks (id SERIAL PRIMARY KEY, sender_id VARCHAR(128) NOT "
                             "NULL, handoff_id INTEGER, phone VARCHAR(16) NOT NULL, name VARCHAR(200), note "
                             "VARCHAR(300), created_at TIMESTAMP WITH TIME ZONE NOT NULL)"))
    evening = dt.datetime(2026, 11, 24, 20, 0, tzinfo=TZ)
    tid = callbacks.record_callback("fb-1", "0912345678", None, None, now=evening, url=pg_url)
    [ticket] = callbacks.list_open_tickets(evening, pg_url)
    assert ticket["id"] == tid and ticket["promised_at"] == dt.datetime(2026, 11, 25, 8, 0, tzinfo=TZ)
    assert callbacks.close_ticket(tid, "officer-an", url=pg_url)
    assert callbacks.list_open_tickets(url=pg_url) == []
