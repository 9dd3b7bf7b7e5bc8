"""The embedded demo dossier store: an SQL table (SQLAlchemy), seeded with deterministic demo dossiers on first use.

Where it lives: an explicit URL or SQLite file, else DATABASE_URL (the application's database, PostgreSQL in a
cluster), else DOSSIER_DB_PATH, else ``<repo>/var/dossiers.sqlite``. It stands in for the one-stop system when
DOSSIER_API_URL is not set (see backend.make_backend).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from infra import db
from onestop.dossiers import seed as seed_data
from onestop.dossiers.demo_catalogue import GENERIC_SUPPLEMENT, PROCEDURES, SUPPLEMENT_DOCS
from onestop.dossiers.interface import BackendUnavailable, DossierBackend, utc, utcnow
from onestop.dossiers.model import STATUS_LABELS_VI, Dossier, DossierStatus, canonical_code, parse_datetime, parse_status
from onestop.dossiers.next_steps import default_next_step
from onestop.dossiers.seed import SEED_DATE

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_DB_PATH = db.REPO_ROOT / "var" / "dossiers.sqlite"

metadata = sa.MetaData()
# Dates are kept as ISO text and the change time also as a number, as the one-stop API's feed reads them.
dossiers = sa.Table(
    "dossiers",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("procedure_key", sa.String(64), nullable=False),
    sa.Column("procedure_name", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("received_at", sa.String(10), nullable=False),
    sa.Column("due_at", sa.String(10), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("updated_ts", sa.Float, nullable=False, index=True),
    sa.Column("office_name", sa.Text, nullable=False),
    sa.Column("next_step_vi", sa.Text, nullable=False),
    sa.Column("applicant_name", sa.Text, nullable=False),
    sa.Column("applicant_phone", sa.String(32), nullable=False),
    sa.Column("missing_documents", sa.Text, nullable=False),
    sa.Column("fee_amount", sa.Integer, nullable=True),
)
dossier_meta = sa.Table(
    "dossier_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def store_url(location: Union[str, Path, None] = None, env: Optional[Mapping[str, str]] = None) -> str:
    """The database URL of the demo store (see the module docstring for the order)."""
    return db.url_for(location, "DOSSIER_DB_PATH", DEFAULT_DB_PATH, env)


def _engine(url: str) -> Engine:
    return db.engine_with(metadata, url)


def _to_row(d: Dossier) -> Dict[str, Any]:
    return {
        "code": d.code,
        "procedure_key": d.procedure_key,
        "procedure_name": d.procedure_name,
        "status": d.status.value,
        "received_at": d.received_at.isoformat(),
        "due_at": d.due_at.isoformat(),
        "updated_at": utc(d.updated_at).isoformat(),
        "updated_ts": utc(d.updated_at).timestamp(),
        "office_name": d.office_name,
        "next_step_vi": d.next_step_vi,
        "applicant_name": d.applicant_name,
        "applicant_phone": d.applicant_phone,
        "missing_documents": json.dumps(d.missing_documents, ensure_ascii=False),
        "fee_amount": d.fee_amount,
    }


def _from_row(row: Mapping[str, Any]) -> Dossier:
    status = DossierStatus(row["status"])
    return Dossier(
        code=row["code"],
        procedure_key=row["procedure_key"],
        procedure_name=row["procedure_name"],
        status=status,
        status_label_vi=STATUS_LABELS_VI[status],
        received_at=dt.date.fromisoformat(row["received_at"]),
        due_at=dt.date.fromisoformat(row["due_at"]),
        updated_at=parse_datetime(row["updated_at"]),
        office_name=row["office_name"],
        next_step_vi=row["next_step_vi"],
        applicant_name=row["applicant_name"],
        applicant_phone=row["applicant_phone"],
        missing_documents=list(json.loads(row["missing_documents"] or "[]")),
        fee_amount=row["fee_amount"],
    )


def _insert(conn: Connection, rows: List[Dict[str, Any]], *, replace: bool) -> None:
    """Insert rows; an existing code is replaced (``replace``) or left as it is."""
    if rows:
        update = {c.name: (lambda ex, n=c.name: ex[n]) for c in dossiers.columns} if replace else None
        db.upsert(conn, dossiers, rows, ["code"], update)


class DemoDossierBackend(DossierBackend):
    """Embedded demo store in the application's SQL database (or a file of its own), seeded on first use."""

    def __init__(self, location: Union[str, Path, None] = None, *, seed: bool = True,
                 seed_date: dt.date = SEED_DATE, knowledge_dir: Optional[Path] = None) -> None:
        self.url = store_url(location)
        self.path = db.sqlite_path(self.url)
        self._seed = seed
        self._seed_date = seed_date
        self._knowledge_dir = knowledge_dir
        self._ready = False
        self._ready_lock = threading.Lock()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await db.run_sync(self._ensured, fn, *args)
        except sa.exc.SQLAlchemyError as exc:
            raise BackendUnavailable("database", f"{type(exc).__name__}: {exc}") from exc

    def _ensured(self, fn: Callable[..., T], *args: Any) -> T:
        with self._ready_lock:
            if not self._ready:
                self._init_sync()
                self._ready = True
        return fn(*args)

    def _init_sync(self) -> None:
        engine = _engine(self.url)
        if not self._seed:
            return
        try:
            # The marker row is written first: a second process seeding at the same moment waits on it, then
            # finds it taken and leaves the seeding to the first.
            with engine.begin() as conn:
                if conn.execute(sa.select(dossier_meta.c.key).where(dossier_meta.c.key == "seeded")).first():
                    return
                conn.execute(dossier_meta.insert().values(key="seeded", value=self._seed_date.isoformat()))
                names = seed_data.load_procedure_names(self._knowledge_dir)
                rows = [_to_row(d) for d in seed_data.generate_demo_dossiers(self._seed_date, names)]
                _insert(conn, rows, replace=False)
            log.info("seeded %d demo dossiers into %s", len(rows), sa.engine.make_url(self.url).render_as_string(hide_password=True))
        except sa.exc.IntegrityError:
            pass  # another process seeded it

    def _select(self, where: Any = None, order: Sequence[Any] = (), limit: Optional[int] = None) -> List[Dossier]:
        query = sa.select(dossiers)
        if where is not None:
            query = query.where(where)
        if order:
            query = query.order_by(*order)
        if limit:
            query = query.limit(int(limit))
        with _engine(self.url).connect() as conn:
            return [_from_row(row) for row in conn.execute(query).mappings()]

    async def get(self, code: str) -> Optional[Dossier]:
        """The dossier with ``code`` (citizen spelling tolerated), or None."""
        found = await self._run(self._select, dossiers.c.code == canonical_code(code))
        return found[0] if found else None

    async def changed_since(self, ts: dt.datetime) -> List[Dossier]:
        """Dossiers updated strictly after ``ts``."""
        return await self._run(self._select, dossiers.c.updated_ts > utc(ts).timestamp(),
                               (dossiers.c.updated_ts, dossiers.c.code))

    async def list(self, status: Union[str, DossierStatus, None] = None,
                   limit: Optional[int] = None) -> List[Dossier]:
        """All stored dossiers (optionally of one status), newest receipt first."""
        where = dossiers.c.status == parse_status(status).value if status is not None else None
        return await self._run(self._select, where, (dossiers.c.received_at.desc(), dossiers.c.code), limit)

    def _put_sync(self, d: Dossier) -> None:
        with _engine(self.url).begin() as conn:
            _insert(conn, [_to_row(d)], replace=True)

    async def put(self, d: Dossier) -> None:
        """Insert or replace one dossier (tests, demos)."""
        await self._run(self._put_sync, d)

    def _set_status_sync(self, code: str, status: DossierStatus, next_step_vi: Optional[str],
                         missing_documents: Optional[Sequence[str]], fee_amount: Optional[int],
                         reason: Optional[str], now: dt.datetime) -> Optional[Dossier]:
        with _engine(self.url).begin() as conn:
            # A write first takes the row lock (PostgreSQL) or the database's (SQLite), so another writer's
            # read-modify-write cannot interleave with this one.
            touched = conn.execute(sa.update(dossiers).where(dossiers.c.code == code)
                                   .values(updated_ts=dossiers.c.updated_ts)).rowcount
            if not touched:
                return None
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == code)).mappings().one()
            d = _with_status(_from_row(row), status, next_step_vi, missing_documents, fee_amount, reason, now)
            conn.execute(sa.update(dossiers).where(dossiers.c.code == code).values(**_to_row(d)))
            return d

    async def set_status(self, code: str, status: Union[str, DossierStatus], *, next_step_vi: Optional[str] = None,
                         missing_documents: Optional[Sequence[str]] = None, fee_amount: Optional[int] = None,
                         reason: Optional[str] = None, now: Optional[dt.datetime] = None) -> Optional[Dossier]:
        """Move a dossier to ``status`` (next step regenerated unless given); None for an unknown code."""
        return await self._run(self._set_status_sync, canonical_code(code), parse_status(status), next_step_vi,
                               missing_documents, fee_amount, reason, now or utcnow())

    async def close(self) -> None:
        """Nothing to release: the engine's pool belongs to infra.db."""


def _with_status(d: Dossier, status: DossierStatus, next_step_vi: Optional[str],
                 missing_documents: Optional[Sequence[str]], fee_amount: Optional[int], reason: Optional[str],
                 now: dt.datetime) -> Dossier:
    """``d`` moved to ``status``, with the documents, fee and next step that status implies."""
    proc = PROCEDURES.get(d.procedure_key)
    if missing_documents is None:
        if status is DossierStatus.SUPPLEMENT_REQUIRED:
            missing_documents = d.missing_documents or list(
                SUPPLEMENT_DOCS.get(d.procedure_key, GENERIC_SUPPLEMENT)[0])
        else:
            missing_documents = []
    if status is DossierStatus.FEE_DUE and fee_amount is None:
        fee_amount = d.fee_amount or (proc.fee if proc else None)
    d.status = status
    d.status_label_vi = STATUS_LABELS_VI[status]
    d.missing_documents = list(missing_documents)
    d.fee_amount = fee_amount  # a fee only means something while it is due
    d.updated_at = utc(now)
    d.next_step_vi = next_step_vi or default_next_step(
        status, office_name=d.office_name, due_at=d.due_at, missing_documents=d.missing_documents,
        fee_amount=d.fee_amount, land=bool(proc and proc.land), reason=reason)
    return d
