"""Erase one citizen's data everywhere (Law 91/2025 on personal data protection: the right to deletion).

    python -m privacy erase SENDER_ID [--rasa-url URL]

SENDER_ID is the conversation id: the Zalo or Messenger user id, or ``rest:<id>``. What goes:
- the conversation (tracker): its Redis key when REDIS_URL is set, and through Rasa's API (token RASA_TOKEN)
  its events are replaced by nothing (the in-memory store of ``make run``);
- hand-offs and officers' replies to it, its unanswered questions (SQL);
- its dossier status subscriptions;
- its appointment bookings: a future booking is cancelled (its place freed: the office cannot receive someone
  whose name and phone we no longer hold), then every booking's name, phone and sender are replaced by
  ``ERASED``; the rows stay, without personal data, so the offices' counts stay right;
- the connectors' officer-pause markers and held messages for it (Redis).
Ownership-proof counters and proofs are keyed by hashes and expire within 30 minutes by themselves.
"""
from __future__ import annotations

import asyncio
import os
from typing import Dict, Optional

import sqlalchemy as sa

ERASED = "ERASED"
PLATFORMS = ("zalo", "messenger")


def erase_sql(sender_id: str, url: Optional[str] = None) -> Dict[str, int]:
    """Delete or anonymise the SQL rows of ``sender_id``; counts per table."""
    from infra import db
    from infra.masking import user_ref
    from onestop.appointments import store
    from onestop.handoffs import callbacks
    from onestop.notify import consent
    from onestop.stats import events as stats

    counts: Dict[str, int] = {}
    engine = db.get_engine(url)
    with engine.begin() as conn:
        for table in (db.handoffs, db.officer_replies, db.unanswered):
            counts[table.name] = conn.execute(table.delete().where(table.c.sender_id == sender_id)).rowcount
        counts[db.feedback.name] = conn.execute(
            db.feedback.delete().where(db.feedback.c.sender_ref == user_ref(sender_id))).rowcount
    counts["handoff_callbacks"] = callbacks.forget(sender_id, url)
    with stats.engine(url).begin() as conn:   # pseudonymous, but the hash still leads back to this citizen
        counts["stats_events"] = conn.execute(
            stats.stats_events.delete().where(stats.stats_events.c.user_ref == user_ref(sender_id))).rowcount
    counts["notify_consents"] = consent.forget(sender_id, url=url)
    b = store.bookings
    booking_engine = store.get_engine(url)
    now = store.calendar.now_local()
    with booking_engine.connect() as conn:
        future = conn.execute(sa.select(b.c.code, b.c.phone).where(
            b.c.sender_id == sender_id, b.c.status == store.BOOKED, b.c.slot_start > now)).fetchall()
    counts["bookings_cancelled"] = sum(store.cancel(code, phone, url=url).status == store.OK for code, phone in future)
    with booking_engine.begin() as conn:
        counts[b.name] = conn.execute(b.update().where(b.c.sender_id == sender_id).values(
            full_name=ERASED, phone=ERASED, sender_id=ERASED, idempotency_key=None)).rowcount
    return counts


async def erase_redis(sender_id: str, redis_url: str, tracker_prefix: str) -> int:
    """Delete the tracker key and the connectors' keys of ``sender_id``; how many keys went."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    try:
        keys = [f"{tracker_prefix}:tracker:{sender_id}", f"tracker:{sender_id}"]
        for platform in PLATFORMS:
            keys += [f"chatbot:paused:{platform}:{sender_id}", f"chatbot:held:{platform}:{sender_id}"]
        return int(await client.delete(*keys))
    finally:
        closer = getattr(client, "aclose", None) or client.close
        await closer()


async def erase(sender_id: str, rasa_url: Optional[str] = None, env: Optional[Dict[str, str]] = None) -> Dict[str, int]:
    """Erase ``sender_id`` everywhere; what was removed, per place (-1: that place could not be reached)."""
    import aiohttp

    from onestop.dossiers.subscriptions import SubscriptionStore
    from infra.rasa_api import RasaApi

    env = dict(os.environ) if env is None else env
    counts = await asyncio.to_thread(erase_sql, sender_id)
    subs = SubscriptionStore()
    try:
        counts["subscriptions"] = await subs.unsubscribe(sender_id)
    finally:
        await subs.close()
    if env.get("REDIS_URL"):
        counts["redis_keys"] = await erase_redis(sender_id, env["REDIS_URL"], env.get("TRACKER_KEY_PREFIX", "tracker"))
    try:
        async with RasaApi(rasa_url) as api:
            status = (await api.tracker(sender_id))[0]
            if status == 200:
                status = await api.replace_events(sender_id, [])
        counts["rasa_tracker"] = 1 if status == 200 else -1
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        counts["rasa_tracker"] = -1  # not running: nothing held in its memory either
    return counts
