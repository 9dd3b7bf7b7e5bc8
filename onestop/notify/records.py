"""The notifications table (infra.db.notifications): one row per event ever notified, how and how it went.

The row is claimed (inserted as pending) before anything is sent, so a rerun or a second process never sends
the same event twice. A row may be claimed again only when nothing went out: it was skipped (window closed, no
consent: the citizen may write or agree later) or it failed in a way known not to have delivered
(detail starting with ``retry:``). All functions are blocking: async callers use ``infra.db.run_sync``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, Optional, Tuple

import sqlalchemy as sa

from infra import db
from infra.clock import utc_now

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
ROUTE_CHAT, ROUTE_ZNS, ROUTE_TAG, ROUTE_NONE = "chat", "zns", "tag", "none"
RETRY_PREFIX = "retry:"
T = db.notifications
N = T.c


def _engine(url: Optional[str]) -> Any:
    return db.get_engine(url)


def _utc(now: Optional[dt.datetime]) -> dt.datetime:
    """Stored times are UTC (SQLite keeps no offset: mixing zones would misorder rows)."""
    return (now or utc_now()).astimezone(dt.timezone.utc)


def _insert_new(conn: Any, row: Dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row is new (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(T).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return conn.execute(stmt).rowcount == 1


def claim(dedupe_key: str, purpose: str, *, sender_ref: Optional[str], channel: Optional[str],
          office_id: Optional[str] = None, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> bool:
    """Take ``dedupe_key`` for sending; False when it was sent, failed or is being sent already."""
    when = _utc(now)
    with _engine(url).begin() as conn:
        if _insert_new(conn, {"dedupe_key": dedupe_key, "purpose": purpose, "sender_ref": sender_ref,
                              "channel": channel, "route": ROUTE_NONE, "status": PENDING, "office_id": office_id,
                              "created_at": when, "updated_at": when}):
            return True
        # Only a row that sent nothing may be taken again; the conditional UPDATE is the lock.
        return conn.execute(T.update().where(
            N.dedupe_key == dedupe_key,
            sa.or_(N.status == SKIPPED, sa.and_(N.status == FAILED, N.detail.like(RETRY_PREFIX + "%"))),
        ).values(status=PENDING, route=ROUTE_NONE, channel=channel, updated_at=when)).rowcount == 1


def finish(dedupe_key: str, route: str, status: str, detail: Optional[str] = None,
           template: Optional[str] = None, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> None:
    """Record how a claimed notification went."""
    with _engine(url).begin() as conn:
        conn.execute(T.update().where(N.dedupe_key == dedupe_key).values(
            route=route, status=status, detail=(detail or None) and detail[:300], template=template,
            updated_at=_utc(now)))


def get(dedupe_key: str, url: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """The row of ``dedupe_key``, if any."""
    with _engine(url).connect() as conn:
        row = conn.execute(sa.select(T).where(N.dedupe_key == dedupe_key)).first()
    return dict(row._mapping) if row else None


def counts(url: Optional[str] = None, since: Optional[dt.datetime] = None) -> Dict[Tuple[str, str], int]:
    """(route, status) -> number of notifications (created since ``since``), for dashboards."""
    query = sa.select(N.route, N.status, sa.func.count()).group_by(N.route, N.status)
    if since is not None:
        query = query.where(N.created_at >= _utc(since))
    with _engine(url).connect() as conn:
        return {(r, s): int(n) for r, s, n in conn.execute(query)}
