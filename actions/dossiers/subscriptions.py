"""Who asked to be told when a dossier changes, through which channel, and what they were told last.

A row exists only because the citizen said yes (consent is never implied); it holds no personal data beyond
the platform's sender id, and ends when they unsubscribe, when the dossier is finished and they were told, or
after a long silence (`purge`). SQLite file under var/ (DOSSIER_SUBSCRIPTIONS_DB_PATH); calls run in worker
threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, TypeVar, Union

from actions.dossiers.model import TERMINAL_STATUSES, canonical_code

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SUBSCRIPTIONS_PATH = REPO_ROOT / "var" / "dossier_subscriptions.sqlite"

RESULT_SENT = "sent"
RESULT_OUTSIDE_WINDOW = "not_sent: outside_window"
RESULT_GAVE_UP = "not_sent: gave_up"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    sender_id            TEXT NOT NULL,
    code                 TEXT NOT NULL,
    channel              TEXT NOT NULL,
    last_status          TEXT NOT NULL,   -- the status the citizen last saw or was told (or we gave up on)
    last_user_message_at REAL NOT NULL,   -- epoch seconds UTC; opens the platform's messaging window
    created_at           REAL NOT NULL,   -- when the citizen agreed
    pending_status       TEXT,            -- a change not delivered yet (outside the window, or send failed)
    last_result          TEXT,            -- sent | not_sent: outside_window | error: ... | not_sent: gave_up
    last_attempt_at      REAL,
    notified_at          REAL,
    errors               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sender_id, code)
);
CREATE INDEX IF NOT EXISTS subscriptions_code ON subscriptions (code);
CREATE INDEX IF NOT EXISTS subscriptions_pending ON subscriptions (pending_status);
CREATE TABLE IF NOT EXISTS notifier_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _ts(value: dt.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


def _dt(value: Optional[float]) -> Optional[dt.datetime]:
    return None if value is None else dt.datetime.fromtimestamp(value, dt.timezone.utc)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Subscription:
    """One citizen's request to hear about one dossier."""

    sender_id: str
    channel: str
    code: str
    last_status: str
    last_user_message_at: dt.datetime
    created_at: dt.datetime
    pending_status: Optional[str] = None
    last_result: Optional[str] = None
    last_attempt_at: Optional[dt.datetime] = None
    notified_at: Optional[dt.datetime] = None
    errors: int = 0


def _from_row(row: sqlite3.Row) -> Subscription:
    return Subscription(
        sender_id=row["sender_id"],
        channel=row["channel"],
        code=row["code"],
        last_status=row["last_status"],
        last_user_message_at=_dt(row["last_user_message_at"]),  # type: ignore[arg-type]
        created_at=_dt(row["created_at"]),  # type: ignore[arg-type]
        pending_status=row["pending_status"],
        last_result=row["last_result"],
        last_attempt_at=_dt(row["last_attempt_at"]),
        notified_at=_dt(row["notified_at"]),
        errors=row["errors"],
    )


class SubscriptionStore:
    """SQLite-backed subscriptions and the notifier's polling cursor."""

    def __init__(self, path: Union[str, Path, None] = None) -> None:
        self.path = Path(
            path or os.environ.get("DOSSIER_SUBSCRIPTIONS_DB_PATH") or DEFAULT_SUBSCRIPTIONS_PATH
        )
        self._ready = False
        self._init_lock: Optional[asyncio.Lock] = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn

    def _init_sync(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            # WAL: the action server writes subscriptions while the notifier reads them.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        finally:
            conn.close()

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._ready:
            if self._init_lock is None:
                self._init_lock = asyncio.Lock()
            async with self._init_lock:
                if not self._ready:
                    await asyncio.to_thread(self._init_sync)
                    self._ready = True
        return await asyncio.to_thread(fn, *args)

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> int:
        conn = self._connect()
        try:
            return conn.execute(sql, tuple(args)).rowcount
        finally:
            conn.close()

    def _query(self, sql: str, args: Iterable[Any] = ()) -> List[Subscription]:
        conn = self._connect()
        try:
            return [_from_row(r) for r in conn.execute(sql, tuple(args)).fetchall()]
        finally:
            conn.close()

    async def subscribe(
        self, sender_id: str, channel: str, code: str, status: str, *, now: Optional[dt.datetime] = None
    ) -> Subscription:
        """Record consent to hear about ``code`` (whose status the citizen just saw); idempotent."""
        when = _ts(now or _now())
        code = canonical_code(code)
        await self._run(
            self._exec,
            """
            INSERT INTO subscriptions
                (sender_id, code, channel, last_status, last_user_message_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (sender_id, code) DO UPDATE SET
                channel = excluded.channel, last_status = excluded.last_status,
                last_user_message_at = excluded.last_user_message_at,
                pending_status = NULL, last_result = NULL, errors = 0
            """,
            (sender_id, code, channel, status, when, when),
        )
        sub = await self.get(sender_id, code)
        assert sub is not None
        return sub

    async def unsubscribe(self, sender_id: str, code: Optional[str] = None) -> int:
        """Drop one subscription, or all of ``sender_id``'s when ``code`` is None; returns how many."""
        if code is None:
            return await self._run(self._exec, "DELETE FROM subscriptions WHERE sender_id = ?", (sender_id,))
        return await self._run(
            self._exec,
            "DELETE FROM subscriptions WHERE sender_id = ? AND code = ?",
            (sender_id, canonical_code(code)),
        )

    async def touch(
        self, sender_id: str, *, now: Optional[dt.datetime] = None, channel: Optional[str] = None
    ) -> int:
        """The citizen just wrote to us: their messaging window reopens (call on every user turn)."""
        when = _ts(now or _now())
        if channel:
            return await self._run(
                self._exec,
                "UPDATE subscriptions SET last_user_message_at = ?, channel = ? WHERE sender_id = ?",
                (when, channel, sender_id),
            )
        return await self._run(
            self._exec,
            "UPDATE subscriptions SET last_user_message_at = ? WHERE sender_id = ?",
            (when, sender_id),
        )

    async def get(self, sender_id: str, code: str) -> Optional[Subscription]:
        """The subscription of ``sender_id`` to ``code``, if any."""
        rows = await self._run(
            self._query,
            "SELECT * FROM subscriptions WHERE sender_id = ? AND code = ?",
            (sender_id, canonical_code(code)),
        )
        return rows[0] if rows else None

    async def for_sender(self, sender_id: str) -> List[Subscription]:
        """Every subscription of ``sender_id`` (to list or cancel them)."""
        return await self._run(
            self._query, "SELECT * FROM subscriptions WHERE sender_id = ? ORDER BY created_at", (sender_id,)
        )

    async def for_codes(self, codes: Iterable[str]) -> List[Subscription]:
        """Subscriptions to any of ``codes``."""
        codes = list(dict.fromkeys(codes))
        out: List[Subscription] = []
        for i in range(0, len(codes), 500):  # SQLite caps bound parameters per statement
            chunk = codes[i : i + 500]
            out += await self._run(
                self._query,
                "SELECT * FROM subscriptions WHERE code IN "
                f"({', '.join('?' for _ in chunk)}) ORDER BY code, sender_id",
                chunk,
            )
        return out

    async def pending(self, limit: int = 200) -> List[Subscription]:
        """Subscriptions holding an undelivered change, oldest attempt first."""
        return await self._run(
            self._query,
            "SELECT * FROM subscriptions WHERE pending_status IS NOT NULL ORDER BY last_attempt_at LIMIT ?",
            (limit,),
        )

    async def all(self) -> List[Subscription]:
        """Every subscription (CLI, tests)."""
        return await self._run(self._query, "SELECT * FROM subscriptions ORDER BY created_at")

    async def mark_sent(
        self, sender_id: str, code: str, status: str, *, now: Optional[dt.datetime] = None
    ) -> None:
        """The citizen was told ``status``: it becomes their last known status."""
        when = _ts(now or _now())
        await self._run(
            self._exec,
            """
            UPDATE subscriptions SET last_status = ?, pending_status = NULL, last_result = ?,
                last_attempt_at = ?,
                notified_at = ?, errors = 0
            WHERE sender_id = ? AND code = ?""",
            (status, RESULT_SENT, when, when, sender_id, code),
        )

    async def mark_not_sent(
        self,
        sender_id: str,
        code: str,
        status: str,
        result: str,
        *,
        now: Optional[dt.datetime] = None,
        error: bool = False,
    ) -> None:
        """Record why ``status`` was not delivered; it stays pending for a later run."""
        when = _ts(now or _now())
        await self._run(
            self._exec,
            """
            UPDATE subscriptions SET pending_status = ?, last_result = ?, last_attempt_at = ?,
                errors = errors + ?
            WHERE sender_id = ? AND code = ?""",
            (status, result, when, 1 if error else 0, sender_id, code),
        )

    async def mark_gave_up(
        self, sender_id: str, code: str, status: str, *, now: Optional[dt.datetime] = None
    ) -> None:
        """Stop trying to deliver ``status`` (it counts as handled, so only a later change is sent)."""
        when = _ts(now or _now())
        await self._run(
            self._exec,
            """
            UPDATE subscriptions SET last_status = ?, pending_status = NULL, last_result = ?,
                last_attempt_at = ?,
                errors = 0
            WHERE sender_id = ? AND code = ?""",
            (status, RESULT_GAVE_UP, when, sender_id, code),
        )

    async def clear_pending(
        self, sender_id: str, code: str, result: Optional[str] = None, *, now: Optional[dt.datetime] = None
    ) -> None:
        """Forget an undelivered change (the status went back to what the citizen knows)."""
        when = _ts(now or _now())
        await self._run(
            self._exec,
            """
            UPDATE subscriptions SET pending_status = NULL, errors = 0, last_attempt_at = ?,
                last_result = COALESCE(?, last_result)
            WHERE sender_id = ? AND code = ?""",
            (when, result, sender_id, code),
        )

    async def purge(
        self,
        *,
        now: Optional[dt.datetime] = None,
        finished_after: dt.timedelta = dt.timedelta(days=7),
        idle_after: dt.timedelta = dt.timedelta(days=90),
    ) -> int:
        """Delete subscriptions no longer needed: finished dossiers already told, and long-silent citizens."""
        when = now or _now()
        terminal = [s.value for s in TERMINAL_STATUSES]
        done = await self._run(
            self._exec,
            f"""
            DELETE FROM subscriptions WHERE pending_status IS NULL
              AND last_status IN ({", ".join("?" for _ in terminal)})
              AND COALESCE(notified_at, created_at) < ?""",
            (*terminal, _ts(when - finished_after)),
        )
        idle = await self._run(
            self._exec, "DELETE FROM subscriptions WHERE last_user_message_at < ?", (_ts(when - idle_after),)
        )
        return done + idle

    def _get_state(self, key: str) -> Optional[str]:
        conn = self._connect()
        try:
            row = conn.execute("SELECT value FROM notifier_state WHERE key = ?", (key,)).fetchone()
            return row["value"] if row else None
        finally:
            conn.close()

    async def get_cursor(self) -> Optional[dt.datetime]:
        """The notifier's polling cursor (latest change time seen), None before the first run."""
        value = await self._run(self._get_state, "cursor")
        return dt.datetime.fromisoformat(value) if value else None

    async def set_cursor(self, ts: dt.datetime) -> None:
        """Store the notifier's polling cursor."""
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.timezone.utc)
        await self._run(
            self._exec,
            "INSERT INTO notifier_state (key, value) VALUES ('cursor', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (ts.isoformat(),),
        )

    async def close(self) -> None:
        """Nothing to release: connections live only for one call."""
