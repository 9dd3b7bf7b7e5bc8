"""Where dossiers come from: the one-stop system's REST API, or an embedded SQLite demo store.

`get_backend()` picks the HTTP client when DOSSIER_API_URL is set, else the SQLite store (seeded on first use
with deterministic demo dossiers, see `seed`). Both raise `BackendUnavailable` when they cannot answer, so the
bot can say "the lookup system is not answering, try again later" instead of "no such dossier".
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import json
import logging
import os
import random
import sqlite3
from pathlib import Path
from typing import Any, Callable, List, Mapping, Optional, Sequence, TypeVar, Union
from urllib.parse import quote

import aiohttp

from actions.dossiers import seed as seed_data
from actions.dossiers.model import (
    STATUS_LABELS_VI,
    Dossier,
    DossierStatus,
    canonical_code,
    parse_datetime,
    parse_status,
)
from actions.dossiers.seed import SEED_DATE, demo_codes  # noqa: F401  (re-exported for tests and docs)

log = logging.getLogger(__name__)
T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB_PATH = REPO_ROOT / "var" / "dossiers.sqlite"


class BackendUnavailable(Exception):
    """The dossier source cannot answer now (down, slow, refused our credentials, answered garbage)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = (
            reason  # timeout | server_error | connection | auth | bad_request | bad_response | database
        )
        self.detail = detail


class DossierBackend(abc.ABC):
    """Read access to dossiers by code, and the feed of recent changes the notifier polls."""

    @abc.abstractmethod
    async def get(self, code: str) -> Optional[Dossier]:
        """The dossier with ``code``, or None when there is none; BackendUnavailable when unreachable."""

    @abc.abstractmethod
    async def changed_since(self, ts: dt.datetime) -> List[Dossier]:
        """Dossiers updated strictly after ``ts`` (naive means UTC), oldest change first."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; the backend may be used again afterwards (it reconnects lazily)."""

    async def __aenter__(self) -> "DossierBackend":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def _utc(ts: dt.datetime) -> dt.datetime:
    return ts.replace(tzinfo=dt.timezone.utc) if ts.tzinfo is None else ts.astimezone(dt.timezone.utc)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --------------------------------------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dossiers (
    code              TEXT PRIMARY KEY,
    procedure_key     TEXT NOT NULL,
    procedure_name    TEXT NOT NULL,
    status            TEXT NOT NULL,
    received_at       TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    updated_ts        REAL NOT NULL,
    office_name       TEXT NOT NULL,
    next_step_vi      TEXT NOT NULL,
    applicant_name    TEXT NOT NULL,
    applicant_phone   TEXT NOT NULL,
    missing_documents TEXT NOT NULL,
    fee_amount        INTEGER
);
CREATE INDEX IF NOT EXISTS dossiers_updated_ts ON dossiers (updated_ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = (
    "code",
    "procedure_key",
    "procedure_name",
    "status",
    "received_at",
    "due_at",
    "updated_at",
    "updated_ts",
    "office_name",
    "next_step_vi",
    "applicant_name",
    "applicant_phone",
    "missing_documents",
    "fee_amount",
)


def _to_row(d: Dossier) -> tuple:
    return (
        d.code,
        d.procedure_key,
        d.procedure_name,
        d.status.value,
        d.received_at.isoformat(),
        d.due_at.isoformat(),
        _utc(d.updated_at).isoformat(),
        _utc(d.updated_at).timestamp(),
        d.office_name,
        d.next_step_vi,
        d.applicant_name,
        d.applicant_phone,
        json.dumps(d.missing_documents, ensure_ascii=False),
        d.fee_amount,
    )


def _from_row(row: sqlite3.Row) -> Dossier:
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


class SqliteDossierBackend(DossierBackend):
    """Embedded demo store: a SQLite file created and seeded with demo dossiers on first use."""

    def __init__(
        self,
        path: Union[str, Path, None] = None,
        *,
        seed: bool = True,
        seed_date: dt.date = SEED_DATE,
        knowledge_dir: Optional[Path] = None,
    ) -> None:
        self.path = Path(path or os.environ.get("DOSSIER_DB_PATH") or DEFAULT_DB_PATH)
        self._seed = seed
        self._seed_date = seed_date
        self._knowledge_dir = knowledge_dir
        self._ready = False
        self._init_lock: Optional[asyncio.Lock] = None

    # sqlite3 is blocking: every call below runs in a worker thread with its own short-lived connection,
    # which also makes the store safe to share between the action server and the notifier process.
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        await self._ensure()
        return await self._thread(fn, *args)

    async def _thread(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except sqlite3.Error as exc:
            raise BackendUnavailable("database", str(exc)) from exc

    async def _ensure(self) -> None:
        if self._ready:
            return
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            if not self._ready:
                await self._thread(self._init_sync)
                self._ready = True

    def _init_sync(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            # WAL lets the notifier read while the demo CLI or a test writes.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            if not self._seed:
                return
            conn.execute("BEGIN IMMEDIATE")  # two processes starting together must not both seed
            try:
                if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone() is None:
                    names = seed_data.load_procedure_names(self._knowledge_dir)
                    rows = [_to_row(d) for d in seed_data.generate_demo_dossiers(self._seed_date, names)]
                    conn.executemany(
                        f"INSERT OR IGNORE INTO dossiers ({', '.join(_COLUMNS)}) "
                        f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                        rows,
                    )
                    conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('seeded', ?)", (self._seed_date.isoformat(),)
                    )
                    log.info("seeded %d demo dossiers into %s", len(rows), self.path)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    def _get_sync(self, code: str) -> Optional[Dossier]:
        conn = self._connect()
        try:
            row = conn.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
            return _from_row(row) if row else None
        finally:
            conn.close()

    async def get(self, code: str) -> Optional[Dossier]:
        """The dossier with ``code`` (citizen spelling tolerated), or None."""
        return await self._run(self._get_sync, canonical_code(code))

    def _changed_sync(self, since: float) -> List[Dossier]:
        conn = self._connect()
        try:
            rows = conn.execute(
                "SELECT * FROM dossiers WHERE updated_ts > ? ORDER BY updated_ts, code", (since,)
            ).fetchall()
            return [_from_row(r) for r in rows]
        finally:
            conn.close()

    async def changed_since(self, ts: dt.datetime) -> List[Dossier]:
        """Dossiers updated strictly after ``ts``."""
        return await self._run(self._changed_sync, _utc(ts).timestamp())

    def _list_sync(self, status: Optional[str], limit: Optional[int]) -> List[Dossier]:
        conn = self._connect()
        try:
            sql, args = "SELECT * FROM dossiers", []  # type: ignore[var-annotated]
            if status:
                sql += " WHERE status = ?"
                args.append(status)
            sql += " ORDER BY received_at DESC, code"
            if limit:
                sql += " LIMIT ?"
                args.append(int(limit))
            return [_from_row(r) for r in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    async def list(
        self, status: Union[str, DossierStatus, None] = None, limit: Optional[int] = None
    ) -> List[Dossier]:
        """All stored dossiers (optionally of one status), newest receipt first."""
        value = parse_status(status).value if status is not None else None
        return await self._run(self._list_sync, value, limit)

    def _put_sync(self, d: Dossier) -> None:
        conn = self._connect()
        try:
            conn.execute(
                f"INSERT OR REPLACE INTO dossiers ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                _to_row(d),
            )
        finally:
            conn.close()

    async def put(self, d: Dossier) -> None:
        """Insert or replace one dossier (tests, demos)."""
        await self._run(self._put_sync, d)

    def _set_status_sync(
        self,
        code: str,
        status: DossierStatus,
        next_step_vi: Optional[str],
        missing_documents: Optional[Sequence[str]],
        fee_amount: Optional[int],
        reason: Optional[str],
        now: dt.datetime,
    ) -> Optional[Dossier]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")  # read-modify-write must not interleave with another writer
            try:
                row = conn.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
                if row is None:
                    conn.execute("ROLLBACK")
                    return None
                d = _from_row(row)
                proc = seed_data.PROCEDURES.get(d.procedure_key)
                if missing_documents is None:
                    if status is DossierStatus.SUPPLEMENT_REQUIRED:
                        missing_documents = d.missing_documents or list(
                            seed_data.SUPPLEMENT_DOCS.get(d.procedure_key, seed_data.GENERIC_SUPPLEMENT)[0]
                        )
                    else:
                        missing_documents = []
                if status is DossierStatus.FEE_DUE and fee_amount is None:
                    fee_amount = d.fee_amount or (proc.fee if proc else None)
                d.status = status
                d.status_label_vi = STATUS_LABELS_VI[status]
                d.missing_documents = list(missing_documents)
                d.fee_amount = fee_amount  # a fee only means something while it is due
                d.updated_at = _utc(now)
                d.next_step_vi = next_step_vi or seed_data.default_next_step(
                    status,
                    office_name=d.office_name,
                    due_at=d.due_at,
                    missing_documents=d.missing_documents,
                    fee_amount=d.fee_amount,
                    land=bool(proc and proc.land),
                    reason=reason,
                )
                conn.execute(
                    f"INSERT OR REPLACE INTO dossiers ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
                    _to_row(d),
                )
                conn.execute("COMMIT")
                return d
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    async def set_status(
        self,
        code: str,
        status: Union[str, DossierStatus],
        *,
        next_step_vi: Optional[str] = None,
        missing_documents: Optional[Sequence[str]] = None,
        fee_amount: Optional[int] = None,
        reason: Optional[str] = None,
        now: Optional[dt.datetime] = None,
    ) -> Optional[Dossier]:
        """Move a dossier to ``status`` (next step regenerated unless given); None for an unknown code."""
        return await self._run(
            self._set_status_sync,
            canonical_code(code),
            parse_status(status),
            next_step_vi,
            missing_documents,
            fee_amount,
            reason,
            now or _utcnow(),
        )

    async def close(self) -> None:
        """Nothing to release: connections live only for one call."""


# ----------------------------------------------------------------------------------------------- HTTP


class HttpDossierBackend(DossierBackend):
    """Client of the one-stop system's REST API (docs/dossier-api.md)."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        *,
        timeout: float = 4.0,
        attempt_timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout  # budget for one call, retries included: the citizen is waiting in a chat
        self.attempt_timeout = attempt_timeout
        self.retries = retries
        self.backoff = backoff
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    async def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # A session is bound to the loop that created it; a CLI or test running a new loop needs its own.
        if self._session is None or self._session.closed or self._session_loop is not loop:
            headers = {"Accept": "application/json", "User-Agent": "mot-cua-assistant/0.1"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(limit=20, ttl_dns_cache=300),
                raise_for_status=False,
            )
            self._session_loop = loop
        return self._session

    async def _get_json(
        self, path: str, params: Optional[Mapping[str, str]] = None, not_found_is_none: bool = False
    ) -> Any:
        session = await self._get_session()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        url = self.base_url + path
        last: Optional[BackendUnavailable] = None
        for attempt in range(self.retries + 1):
            remaining = deadline - loop.time()
            if remaining <= 0.01:
                break
            per_try = aiohttp.ClientTimeout(total=min(self.attempt_timeout, remaining))
            try:
                async with session.get(url, params=params, timeout=per_try) as resp:
                    if resp.status == 404 and not_found_is_none:
                        return None
                    if resp.status in (401, 403):
                        # Retrying cannot fix a wrong or revoked key; operators must see it at once.
                        raise BackendUnavailable("auth", f"HTTP {resp.status} from {path}")
                    if resp.status >= 500 or resp.status == 429:
                        last = BackendUnavailable("server_error", f"HTTP {resp.status} from {path}")
                    elif resp.status >= 400:
                        raise BackendUnavailable("bad_request", f"HTTP {resp.status} from {path}")
                    else:
                        try:
                            return await resp.json(content_type=None)
                        except ValueError as exc:
                            raise BackendUnavailable("bad_response", f"invalid JSON from {path}") from exc
            except asyncio.TimeoutError:
                last = BackendUnavailable("timeout", f"no answer from {path} within {per_try.total:.1f}s")
            except aiohttp.ClientError as exc:
                last = BackendUnavailable("connection", f"{type(exc).__name__}: {exc}")
            if attempt < self.retries:
                # Exponential backoff with jitter, never past the call's deadline.
                delay = self.backoff * (2**attempt) * (0.5 + random.random() / 2)
                delay = min(delay, max(0.0, deadline - loop.time() - 0.05))
                if delay > 0:
                    await asyncio.sleep(delay)
        raise last or BackendUnavailable("timeout", f"no answer from {path} within {self.timeout:.1f}s")

    async def get(self, code: str) -> Optional[Dossier]:
        """GET /dossiers/{code}: the dossier, None on 404, BackendUnavailable otherwise."""
        code = canonical_code(code)
        if not code:
            return None
        data = await self._get_json("/dossiers/" + quote(code, safe=""), not_found_is_none=True)
        if data is None:
            return None
        try:
            dossier = Dossier.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendUnavailable("bad_response", f"dossier JSON does not fit: {exc}") from exc
        if dossier.code.upper() != code.upper():
            raise BackendUnavailable("bad_response", "answer is about another dossier")
        return dossier

    async def changed_since(self, ts: dt.datetime) -> List[Dossier]:
        """GET /dossiers?changed_since=ISO: changed dossiers; malformed items are skipped and logged."""
        data = await self._get_json("/dossiers", params={"changed_since": _utc(ts).isoformat()})
        items = data.get("items") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise BackendUnavailable("bad_response", "changed_since answer is not a list")
        out: List[Dossier] = []
        for item in items:
            try:
                out.append(Dossier.from_dict(item))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                # One bad record must not hide every other change from the notifier.
                log.warning("skipping malformed dossier in changed_since: %s", exc)
        out.sort(key=lambda d: _utc(d.updated_at))
        return out

    async def close(self) -> None:
        """Close the HTTP session (a new one is created on next use)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._session_loop = None


# -------------------------------------------------------------------------------------------- factory


def make_backend(env: Optional[Mapping[str, str]] = None) -> DossierBackend:
    """A new backend from the environment: HTTP when DOSSIER_API_URL is set, else SQLite."""
    env = os.environ if env is None else env
    url = (env.get("DOSSIER_API_URL") or "").strip()
    if url:
        return HttpDossierBackend(
            url, env.get("DOSSIER_API_KEY") or None, timeout=float(env.get("DOSSIER_API_TIMEOUT") or 4.0)
        )
    return SqliteDossierBackend(env.get("DOSSIER_DB_PATH") or None)


_shared: Optional[DossierBackend] = None


def get_backend() -> DossierBackend:
    """The process-wide backend (created on first call) so actions share one HTTP session."""
    global _shared
    if _shared is None:
        _shared = make_backend()
    return _shared


async def reset_backend() -> None:
    """Close and forget the process-wide backend (tests, configuration changes)."""
    global _shared
    backend, _shared = _shared, None
    if backend is not None:
        await backend.close()
