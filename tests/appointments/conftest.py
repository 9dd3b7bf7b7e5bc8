"""Fixtures for the appointment tests: a fresh SQLite file, and a fresh schema on the local PostgreSQL."""
from __future__ import annotations

import datetime as dt
import glob
import os
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from actions import db
from actions.appointments import calendar, store

PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def vn(*args: int) -> dt.datetime:
    """An aware Vietnam-time datetime."""
    return dt.datetime(*args, tzinfo=calendar.tz())


def _pg_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_SERVER, future=True, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable yet"
        return False


def _start_pg() -> str:
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions:
        return "no cluster under /etc/postgresql"
    res = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                         capture_output=True, text=True, timeout=60)
    return (res.stdout + res.stderr).strip()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL database ``test`` (dropped afterwards); FAILS when no server runs."""
    if not _pg_reachable():
        output = _start_pg()
        if not _pg_reachable():
            pytest.fail("PostgreSQL is required for the appointment tests: nothing usable answers on "
                        f"127.0.0.1:5432 (user postgres, database test), and starting it failed: {output}")
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
