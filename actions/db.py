"""The application's SQL database: SQLite by default, PostgreSQL when DATABASE_URL is set.

Engines are created on first use, never at import time. SQLAlchemy 1.4 (Rasa 3.6 pins it) is synchronous:
async callers go through `run_sync` so the event loop never blocks on the database.
"""
from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

metadata = sa.MetaData()

handoffs = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False, default="rest"),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("last_message", sa.Text, nullable=True),
    sa.Column("status", sa.String(16), nullable=False, default="waiting"),
    sa.Column("officer", sa.String(128), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

unanswered = sa.Table(
    "unanswered",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("text", sa.Text, nullable=False),  # personal data masked before it is stored
    sa.Column("reason", sa.String(32), nullable=False),  # declined | fallback
    sa.Column("status", sa.String(16), nullable=False, default="new"),  # new | attached | dismissed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

officer_replies = sa.Table(
    "officer_replies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("officer", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="pending"),  # pending | sent | failed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

_engines: Dict[str, Engine] = {}
_lock = threading.Lock()


def database_url() -> str:
    """DATABASE_URL, or a SQLite file under var/ (the embedded default)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = Path(os.environ.get("APP_DB_PATH", REPO_ROOT / "var" / "app.sqlite"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def get_engine(url: Optional[str] = None) -> Engine:
    """The engine for ``url`` (default: database_url()), with the application's tables created."""
    url = url or database_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            kwargs: Dict[str, Any] = {"future": True, "pool_pre_ping": True}
            if url.startswith("sqlite"):
                # One file shared by threads of this process; SQLite serialises writers itself.
                kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            engine = sa.create_engine(url, **kwargs)
            metadata.create_all(engine)
            _engines[url] = engine
        return engine


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking database function in a worker thread."""
    return await asyncio.to_thread(fn, *args)


def dispose_all() -> None:
    """Close every engine (tests switch databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
