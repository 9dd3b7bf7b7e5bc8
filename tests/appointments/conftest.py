"""Fixtures for the appointment tests: a fresh SQLite file, and a fresh schema on the local PostgreSQL."""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from infra import db
from onestop.appointments import store
from knowledge import calendar

from tests.conftest import PG_SERVER


def vn(*args: int) -> dt.datetime:
    """An aware Vietnam-time datetime."""
    return dt.datetime(*args, tzinfo=calendar.tz())


@pytest.fixture(scope="session")
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL database ``test`` (dropped afterwards); FAILS when no server runs."""
    schema = f"appt_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        db.dispose_all()
        store.reset_created()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file."""
    yield f"sqlite:///{tmp_path / 'app.sqlite'}"
    db.dispose_all()


def _clear(url: str) -> None:
    engine = store.get_engine(url)
    with engine.begin() as conn:
        conn.execute(store.bookings.delete())
        conn.execute(store.slot_capacity.delete())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and on PostgreSQL, with empty tables."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    assert store.get_engine(url).dialect.name == request.param
    _clear(url)
    yield url
    if request.param == "sqlite":
        db.dispose_all()
