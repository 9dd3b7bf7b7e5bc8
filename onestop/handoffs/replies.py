"""Officers' replies to a handed-off conversation, and the conversation itself, through Rasa's HTTP API.

A reply is queued in the database first and delivered by ``action_officer_reply``, which Rasa runs on the
conversation's latest input channel; the transcript and the resume go through the same API client.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Dict, List, Optional

import aiohttp
import sqlalchemy as sa

from infra import db
from infra.rasa_api import RasaApi


def queue_reply(sender_id: str, text: str, officer: str) -> int:
    """Store an officer's reply for ``action_officer_reply`` to send; return its id."""
    with db.get_engine().begin() as conn:
        result = conn.execute(db.officer_replies.insert().values(
            sender_id=sender_id, text=text, officer=officer, status="pending",
            created_at=dt.datetime.now(dt.timezone.utc)))
        return int(result.inserted_primary_key[0])

def set_reply_status(reply_id: int, status: str) -> None:
    """Mark a queued reply sent or failed."""
    with db.get_engine().begin() as conn:
        conn.execute(db.officer_replies.update().where(db.officer_replies.c.id == reply_id).values(status=status))

def take_pending_replies(sender_id: str) -> List[Dict[str, Any]]:
    """The officer replies waiting for ``sender_id``, oldest first, marked sent in the same transaction."""
    table = db.officer_replies
    with db.get_engine().begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(table).where(table.c.sender_id == sender_id, table.c.status == "pending")
            .order_by(table.c.id))]
        if rows:
            conn.execute(table.update().where(table.c.id.in_([r["id"] for r in rows])).values(status="sent"))
        return rows

async def send_officer_reply(rasa_url: str, sender_id: str, text: str, officer: str,
                             token: Optional[str] = None) -> int:
    """Queue the reply and have Rasa run ``action_officer_reply`` on the conversation's latest input channel.

    Rasa's /execute endpoint runs the action even while the conversation is paused (a triggered intent would not),
    and ``output_channel=latest`` delivers the message through the channel the citizen last wrote from.
    Returns the HTTP status of Rasa's answer (0 when Rasa cannot be reached).
    """
    reply_id = await db.run_sync(queue_reply, sender_id, text, officer)
    try:
        async with RasaApi(rasa_url, token, timeout=15) as api:
            status = await api.execute(sender_id, "action_officer_reply")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        status = 0
    if status != 200:
        # not delivered: never send it later by surprise with another reply
        await db.run_sync(set_reply_status, reply_id, "failed")
    return status

async def fetch_transcript(rasa_url: str, sender_id: str, token: Optional[str] = None) -> Optional[List[Dict[str, Any]]]:
    """The conversation's messages as [{who: citizen|bot, text, time}] from Rasa's tracker API (None if unreachable)."""
    try:
        async with RasaApi(rasa_url, token) as api:
            _, tracker = await api.tracker(sender_id)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
        return None
    if tracker is None:
        return None
    out: List[Dict[str, Any]] = []
    for event in tracker.get("events") or []:
        if event.get("event") in ("user", "bot") and (event.get("text") or "").strip():
            out.append({"who": "citizen" if event["event"] == "user" else "bot", "text": event["text"],
                        "time": dt.datetime.fromtimestamp(float(event.get("timestamp") or 0), dt.timezone.utc)})
    return out

async def resume_conversation(rasa_url: str, sender_id: str, token: Optional[str] = None) -> int:
    """Append a `resume` event to the conversation through Rasa's HTTP API; return the HTTP status."""
    async with RasaApi(rasa_url, token) as api:
        # action_listen after the resume: without it the next message follows action_handoff in the tracker
        # and no rule matches ("chào bạn" would not get the greeting).
        return await api.append_events(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])
