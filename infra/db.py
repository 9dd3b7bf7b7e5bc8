"""The application's SQL database: SQLite by default, PostgreSQL when DATABASE_URL is set.

Engines are created on first use, never at import time. SQLAlchemy 1.4 (Rasa 3.6 pins it) is synchronous:
async callers go through `run_sync` so the event loop never blocks on the database.
"""
from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

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

# Citizens' one-tap verdicts on an answer or a booking (issue 16). Only the masked reason text is kept; the
# sender is a hash (infra.masking.user_ref), enough to never ask the same person twice in a row.
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_ref", sa.String(32), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),             # answer | booking
    sa.Column("procedure_key", sa.String(128), nullable=True),
    sa.Column("aspect", sa.String(32), nullable=True),
    sa.Column("value", sa.String(8), nullable=False),             # up | down
    sa.Column("reason", sa.Text, nullable=True),                  # masked
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)
# Every message sent outside a conversation (reminders, dossier status changes) and how it went (issue 16).
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),   # one message per event, ever
    sa.Column("purpose", sa.String(32), nullable=False),          # appointment_reminder | dossier_status | ...
    sa.Column("sender_ref", sa.String(32), nullable=True),
    sa.Column("channel", sa.String(32), nullable=True),           # the citizen's platform
    sa.Column("route", sa.String(16), nullable=False),            # chat | zns | tag | none
    sa.Column("template", sa.String(64), nullable=True),          # the ZNS template name
    sa.Column("status", sa.String(16), nullable=False),           # pending | sent | failed | skipped
    sa.Column("detail", sa.String(300), nullable=True),           # error code or why it was skipped
    sa.Column("office_id", sa.String(64), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
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


def url_for(location: Union[str, Path, None], path_variable: str, default_path: Path,
            env: Optional[Mapping[str, str]] = None) -> str:
    """Where a store of its own lives: ``location`` (a URL or a SQLite file), else DATABASE_URL (the application's
    database), else the SQLite file named by ``path_variable``, else ``default_path``."""
    env = os.environ if env is None else env
    if location is not None:
        return str(location) if "://" in str(location) else f"sqlite:///{Path(location)}"
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    return f"sqlite:///{Path(env.get(path_variable) or default_path)}"


def sqlite_path(url: str) -> Optional[Path]:
    """The file of a SQLite URL (None for other databases)."""
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None


_created: set = set()


def engine_with(tables: sa.MetaData, url: str) -> Engine:
    """The engine for ``url`` with ``tables`` created (once per process), its SQLite folder made first."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = get_engine(url)
    with _lock:
        if (id(tables), url) not in _created:
            tables.create_all(engine)
            _created.add((id(tables), url))
    return engine


def forget_tables(tables: sa.MetaData) -> None:
    """Forget in which databases ``tables`` were created, so the next engine_with creates them again (tests drop
    schemas between runs)."""
    with _lock:
        _created.difference_update({key for key in _created if key[0] == id(tables)})


def upsert(conn: Any, table: sa.Table, rows: Any, keys: Sequence[str],
           update: Optional[Mapping[str, Any]] = None) -> None:
    """INSERT ... ON CONFLICT (``keys``): DO UPDATE SET ``update`` (column -> value, or a callable of the
    ``excluded`` row), or DO NOTHING when ``update`` is None. SQLite and PostgreSQL."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(conn.dialect.name)
    if dialect is None:
        raise NotImplementedError(f"upsert on {conn.dialect.name}")
    stmt = dialect.insert(table)
    if update is None:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    else:
        values = {k: (v(stmt.excluded) if callable(v) else v) for k, v in update.items()}
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=values)
    conn.execute(stmt, rows)


def ensure_columns(engine: Engine, table: sa.Table) -> List[str]:
    """Add to an existing ``table`` the nullable columns a database made by an older version lacks; returns
    their names (a missing table is left to create_all)."""
    inspector = sa.inspect(engine)
    if not inspector.has_table(table.name, schema=table.schema):
        return []
    present = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
    quote = engine.dialect.identifier_preparer.quote
    added: List[str] = []
    for column in table.columns:
        if column.name in present:
            continue
        if not column.nullable:
            raise RuntimeError(f"{table.name}.{column.name} is NOT NULL: it needs a real migration")
        ddl = (f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} "
               f"{column.type.compile(dialect=engine.dialect)}")
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(ddl))
        except sa.exc.DBAPIError:
            # Another process added it first; anything else is a real error.
            if column.name not in {c["name"] for c in sa.inspect(engine).get_columns(table.name,
                                                                                     schema=table.schema)}:
                raise
            continue
        added.append(column.name)
    return added


async def run_sync(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking database function in a worker thread."""
    return await asyncio.to_thread(fn, *args)


def dispose_all() -> None:
    """Close every engine (tests switch databases)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _created.clear()
