"""Retention: personal data is kept TRACKER_RETENTION_DAYS (90 by default), then erased. Run once a day.

    python -m privacy retention [--days N]

- conversations in Redis expire by themselves N days after their last turn (privacy.tracker_store); keys written
  before that expiry existed get it here;
- hand-offs, officers' replies and unanswered questions older than N days are deleted (SQL);
- bookings whose appointment is more than N days past lose the name, phone and sender (the rows stay for counts);
- dossier subscriptions of citizens silent for N days are deleted (and finished dossiers after 7 days).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import os
from typing import Dict, Optional

from privacy.erase import ERASED
from privacy.tracker_store import DEFAULT_RETENTION_DAYS


def retention_days(env: Optional[Dict[str, str]] = None) -> float:
    """TRACKER_RETENTION_DAYS (default 90)."""
    env = os.environ if env is None else env
    return float(env.get("TRACKER_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)


def purge_sql(days: float, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> Dict[str, int]:
    """Delete or anonymise SQL rows older than ``days``; counts per table."""
    from infra import db
    from onestop.appointments import store

    now = now or dt.datetime.now(dt.timezone.utc)
    cutoff = now - dt.timedelta(days=days)
    counts: Dict[str, int] = {}
    with db.get_engine(url).begin() as conn:
        counts["handoffs"] = conn.execute(db.handoffs.delete().where(db.handoffs.c.updated_at < cutoff)).rowcount
        for table in (db.officer_replies, db.unanswered):
            counts[table.name] = conn.execute(table.delete().where(table.c.created_at < cutoff)).rowcount
    b = store.bookings
    with store.get_engine(url).begin() as conn:
        counts[b.name] = conn.execute(b.update().where(b.c.slot_start < cutoff, b.c.full_name != ERASED).values(
            full_name=ERASED, phone=ERASED, sender_id=ERASED, idempotency_key=None)).rowcount
    return counts


async def expire_old_trackers(redis_url: str, days: float, tracker_prefix: str = "tracker") -> int:
    """Give every tracker key without an expiry one of ``days``; how many were changed."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    changed = 0
    try:
        async for key in client.scan_iter(match=f"{tracker_prefix}:tracker:*", count=500):
            if await client.ttl(key) == -1:
                changed += int(await client.expire(key, int(days * 86400)))
    finally:
        closer = getattr(client, "aclose", None) or client.close
        await closer()
    return changed


async def run(days: Optional[float] = None, env: Optional[Dict[str, str]] = None) -> Dict[str, int]:
    """One retention pass; counts of what was erased."""
    from onestop.dossiers.subscriptions import SubscriptionStore

    env = dict(os.environ) if env is None else env
    days = retention_days(env) if days is None else days
    counts = await asyncio.to_thread(purge_sql, days)
    subs = SubscriptionStore()
    try:
        counts["subscriptions"] = await subs.purge(idle_after=dt.timedelta(days=days))
    finally:
        await subs.close()
    if env.get("REDIS_URL"):
        counts["tracker_expiry_set"] = await expire_old_trackers(env["REDIS_URL"], days,
                                                                 env.get("TRACKER_KEY_PREFIX", "tracker"))
    return counts
