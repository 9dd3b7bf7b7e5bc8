"""Who asked to be told when a dossier changes, through which channel, and what they were told last.

A row exists only because the citizen said yes (consent is never implied); it holds no personal data beyond
the platform's sender id, and ends when they unsubscribe, when the dossier is finished and they were told, or
after a long silence (`purge`). Tables in DATABASE_URL when set, else in the SQLite file
DOSSIER_SUBSCRIPTIONS_DB_PATH (default under var/); calls run in worker threads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, List, Mapping, Optional, TypeVar, Union

import sqlalchemy as sa

from infra import db
from onestop.dossiers.model import TERMINAL_STATUSES, canonical_code

T = TypeVar("T")
DEFAULT_SUBSCRIPTIONS_PATH = db.REPO_ROOT / "var" / "dossier_subscriptions.sqlite"

RESULT_SENT = "sent"
RESULT_OUTSIDE_WINDOW = "not_sent: outside_window"
RESULT_GAVE_UP = "not_sent: gave_up"

metadata = sa.MetaData()
# Times are epoch seconds (UTC), as the notifier compares them with the platforms' window lengths.
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("sender_id", sa.String(128), primary_key=True),
    sa.Column("code", sa.String(64), primary_key=True, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("last_status", sa.String(32), nullable=False),  # what the citizen last saw or was told
    sa.Column("last_user_message_at", sa.Float, nullable=False),  # opens the platform's messaging window
    sa.Column("created_at", sa.Float, nullable=False),  # when the citizen agreed
    sa.Column("pending_status", sa.String(32), nullable=True, index=True),  # a change not delivered yet
    sa.Column("last_result", sa.Text, nullable=True),  # sent | not_sent: outside_window | error: ... | gave_up
    sa.Column("last_attempt_at", sa.Float, nullable=True),
    sa.Column("notified_at", sa.Float, nullable=True),
    sa.Column("errors", sa.Integer, nullable=False, default=0),
)
notifier_state = sa.Table(
    "notifier_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
S = subscriptions.c


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


def _from_row(row: Mapping[str, Any]) -> Subscription:
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
    """Subscriptions and the notifier's polling cursor, in SQL."""

    def __init__(self, location: Union[str, Path, None] = None) -> None:
        self.url = db.url_for(location, "DOSSIER_SUBSCRIPTIONS_DB_PATH", DEFAULT_SUBSCRIPTIONS_PATH)
        self.path = db.sqlite_path(self.url)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await db.run_sync(fn, *args)

    def _exec(self, stmt: Any) -> int:
        with db.engine_with(metadata, self.url).begin() as conn:
            return conn.execute(stmt).rowcount

    def _query(self, where: Any = None, order: Iterable[Any] = (S.created_at,), limit: Optional[int] = None,
               ) -> List[Subscription]:
        query = sa.select(subscriptions).order_by(*order)
        if where is not None:
            query = query.where(where)
        if limit:
            query = query.limit(limit)
        with db.engine_with(metadata, self.url).connect() as conn:
            return [_from_row(r) for r in conn.execute(query).mappings()]

    def _one(self, sender_id: str, code: str) -> Any:
        return sa.and_(S.sender_id == sender_id, S.code == code)

    def _subscribe_sync(self, row: dict) -> None:
        with db.engine_with(metadata, self.url).begin() as conn:
            db.upsert(conn, subscriptions, [row], ["sender_id", "code"], {
                "channel": lambda ex: ex.channel, "last_status": lambda ex: ex.last_status,
                "last_user_message_at": lambda ex: ex.last_user_message_at,
                "pending_status": None, "last_result": None, "errors": 0})

    async def subscribe(
        self, sender_id: str, channel: str, code: str, status: str, *, now: Optional[dt.datetime] = None
    ) -> Subscription:
        """Record consent to hear about ``code`` (whose status the citizen just saw); idempotent."""
        when = _ts(now or _now())
        code = canonical_code(code)
        await self._run(self._subscribe_sync, {
            "sender_id": sender_id, "code": code, "channel": channel, "last_status": status,
            "last_user_message_at": when, "created_at": when, "errors": 0})
        sub = await self.get(sender_id, code)
        assert sub is not None
        return sub

    async def unsubscribe(self, sender_id: str, code: Optional[str] = None) -> int:
        """Drop one subscription, or all of ``sender_id``'s when ``code`` is None; returns how many."""
        where = S.sender_id == sender_id if code is None else self._one(sender_id, canonical_code(code))
        return await self._run(self._exec, sa.delete(subscriptions).where(where))

    async def touch(
        self, sender_id: str, *, now: Optional[dt.datetime] = None, channel: Optional[str] = None
    ) -> int:
        """The citizen just wrote to us: their messaging window reopens (call on every user turn)."""
        values: dict = {"last_user_message_at": _ts(now or _now())}
        if channel:
            values["channel"] = channel
        return await self._run(self._exec, sa.update(subscriptions).where(S.sender_id == sender_id).values(**values))

    async def get(self, sender_id: str, code: str) -> Optional[Subscription]:
        """The subscription of ``sender_id`` to ``code``, if any."""
        rows = await self._run(self._query, self._one(sender_id, canonical_code(code)))
        return rows[0] if rows else None

    async def for_sender(self, sender_id: str) -> List[Subscription]:
        """Every subscription of ``sender_id`` (to list or cancel them)."""
        return await self._run(self._query, S.sender_id == sender_id)

    async def for_codes(self, codes: Iterable[str]) -> List[Subscription]:
        """Subscriptions to any of ``codes``."""
        codes = list(dict.fromkeys(codes))
        out: List[Subscription] = []
        for i in range(0, len(codes), 500):  # SQLite caps bound parameters per statement
            out += await self._run(self._query, S.code.in_(codes[i:i + 500]), (S.code, S.sender_id))
        return out

    async def pending(self, limit: int = 200) -> List[Subscription]:
        """Subscriptions holding an undelivered change, oldest attempt first."""
        return await self._run(self._query, S.pending_status.isnot(None), (S.last_attempt_at,), limit)

    async def all(self) -> List[Subscription]:
        """Every subscription (CLI, tests)."""
        return await self._run(self._query)

    async def _update(self, sender_id: str, code: str, **values: Any) -> None:
        await self._run(self._exec, sa.update(subscriptions).where(self._one(sender_id, code)).values(**values))

    async def mark_sent(
        self, sender_id: str, code: str, status: str, *, now: Optional[dt.datetime] = None
    ) -> None:
        """The citizen was told ``status``: it becomes their last known status."""
        when = _ts(now or _now())
        await self._update(sender_id, code, last_status=status, pending_status=None, last_result=RESULT_SENT,
                           last_attempt_at=when, notified_at=when, errors=0)

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
        await self._update(sender_id, code, pending_status=status, last_result=result,
                           last_attempt_at=_ts(now or _now()), errors=S.errors + (1 if error else 0))

    async def mark_gave_up(
        self, sender_id: str, code: str, status: str, *, now: Optional[dt.datetime] = None
    ) -> None:
        """Stop trying to deliver ``status`` (it counts as handled, so only a later change is sent)."""
        await self._update(sender_id, code, last_status=status, pending_status=None, last_result=RESULT_GAVE_UP,
                           last_attempt_at=_ts(now or _now()), errors=0)

    async def clear_pending(
        self, sender_id: str, code: str, result: Optional[str] = None, *, now: Optional[dt.datetime] = None
    ) -> None:
        """Forget an undelivered change (the status went back to what the citizen knows)."""
        await self._update(sender_id, code, pending_status=None, errors=0, last_attempt_at=_ts(now or _now()),
                           last_result=result if result is not None else S.last_result)

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
        done = await self._run(self._exec, sa.delete(subscriptions).where(
            S.pending_status.is_(None), S.last_status.in_(terminal),
            sa.func.coalesce(S.notified_at, S.created_at) < _ts(when - finished_after)))
        idle = await self._run(self._exec, sa.delete(subscriptions).where(
            S.last_user_message_at < _ts(when - idle_after)))
        return done + idle

    def _get_state(self, key: str) -> Optional[str]:
        with db.engine_with(metadata, self.url).connect() as conn:
            return conn.execute(sa.select(notifier_state.c.value).where(notifier_state.c.key == key)).scalar()

    def _set_state(self, key: str, value: str) -> None:
        with db.engine_with(metadata, self.url).begin() as conn:
            db.upsert(conn, notifier_state, [{"key": key, "value": value}], ["key"],
                      {"value": lambda ex: ex.value})

    async def get_cursor(self) -> Optional[dt.datetime]:
        """The notifier's polling cursor (latest change time seen), None before the first run."""
        value = await self._run(self._get_state, "cursor")
        return dt.datetime.fromisoformat(value) if value else None

    async def set_cursor(self, ts: dt.datetime) -> None:
        """Store the notifier's polling cursor."""
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=dt.timezone.utc)
        await self._run(self._set_state, "cursor", ts.isoformat())

    async def close(self) -> None:
        """Nothing to release: the engine's pool belongs to infra.db."""
