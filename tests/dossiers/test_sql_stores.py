"""The demo dossier store on both databases it runs on: SQLite (a laptop) and PostgreSQL (DATABASE_URL, a cluster)."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from infra import db
from onestop.dossiers.demo_store import DemoDossierBackend, store_url
from onestop.dossiers.model import DossierStatus
from onestop.dossiers.seed import demo_codes, generate_demo_dossiers


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL with no demo dossiers yet: a fresh SQLite file, or a fresh schema on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dossiers.sqlite'}"
        db.dispose_all()
        return
    server = request.getfixturevalue("pg_server")
    schema = f"dossiers_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_where_the_store_lives() -> None:
    assert store_url("/tmp/x.sqlite", {}) == "sqlite:////tmp/x.sqlite"
    assert store_url(None, {"DATABASE_URL": "postgresql://h/db", "DOSSIER_DB_PATH": "/tmp/y.sqlite"}) == \
        "postgresql://h/db"
    assert store_url(None, {"DOSSIER_DB_PATH": "/tmp/y.sqlite"}) == "sqlite:////tmp/y.sqlite"


async def test_backends_starting_together_seed_once(store_location: str) -> None:
    backends = [DemoDossierBackend(store_location) for _ in range(4)]
    results = await asyncio.gather(*(b.list() for b in backends))
    expected = len(generate_demo_dossiers())
    assert [len(r) for r in results] == [expected] * 4


async def test_status_changes_and_the_change_feed(store_location: str) -> None:
    backend = DemoDossierBackend(store_location)
    code = demo_codes(1)["processing"][0]
    await backend.get(code)
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    moved = await backend.set_status(code, DossierStatus.SUPPLEMENT_REQUIRED)
    assert moved is not None and moved.missing_documents
    assert [d.code for d in await backend.changed_since(before)] == [code]
    assert (await DemoDossierBackend(store_location).get(code)).status is DossierStatus.SUPPLEMENT_REQUIRED
    assert await backend.set_status("000.00.11.H26-261119-9999", "ready") is None


async def test_concurrent_status_changes_each_apply_whole(store_location: str) -> None:
    backend = DemoDossierBackend(store_location)
    code = demo_codes(1)["fee_due"][0]
    await backend.get(code)  # seeded before the race
    fees = [100_000 + i for i in range(8)]
    results = await asyncio.gather(*(backend.set_status(code, DossierStatus.FEE_DUE, fee_amount=f) for f in fees))
    assert all(r is not None for r in results)
    final = await backend.get(code)
    assert final.fee_amount in fees and final.status is DossierStatus.FEE_DUE


async def test_subscriptions_and_cursor(store_location: str) -> None:
    from onestop.dossiers.subscriptions import RESULT_OUTSIDE_WINDOW, SubscriptionStore

    subs = SubscriptionStore(store_location)
    t0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
    code = demo_codes(1)["processing"][0]
    await subs.subscribe("zalo:1", "zalo", code, "processing", now=t0)
    again = await subs.subscribe("zalo:1", "zalo", code.lower(), "processing", now=t0)  # idempotent
    assert again.code == code and len(await subs.all()) == 1
    await subs.mark_not_sent("zalo:1", code, "ready", RESULT_OUTSIDE_WINDOW, now=t0, error=True)
    await subs.mark_not_sent("zalo:1", code, "ready", RESULT_OUTSIDE_WINDOW, now=t0, error=True)
    pending = await subs.pending()
    assert [(p.pending_status, p.errors, p.last_result) for p in pending] == [("ready", 2, RESULT_OUTSIDE_WINDOW)]
    await subs.clear_pending("zalo:1", code, now=t0)
    cleared = await subs.get("zalo:1", code)
    assert cleared.pending_status is None and cleared.errors == 0 and cleared.last_result == RESULT_OUTSIDE_WINDOW
    assert await subs.get_cursor() is None
    await subs.set_cursor(t0)
    await subs.set_cursor(t0 + dt.timedelta(hours=1))
    assert await subs.get_cursor() == t0 + dt.timedelta(hours=1)
    assert await subs.purge(now=t0 + dt.timedelta(days=91)) == 1
    assert await subs.all() == []
