"""Questions the bot could not answer, kept (personal data masked) for officers to review."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Dict, List, Set

import sqlalchemy as sa

from infra import db

log = logging.getLogger(__name__)
MAX_TEXT = 1000
_pending: Set["asyncio.Task[None]"] = set()


def mask(text: str) -> str:
    """Mask phone and ID numbers (and cut very long text) before storing."""
    from infra.masking import mask_text

    return mask_text(text, limit=MAX_TEXT) or ""


def record(sender_id: str, text: str, reason: str) -> None:
    """Store one unanswered question (blocking)."""
    with db.get_engine().begin() as conn:
        conn.execute(db.unanswered.insert().values(
            sender_id=sender_id, text=mask(text), reason=reason, status="new",
            created_at=dt.datetime.now(dt.timezone.utc)))


def record_later(sender_id: str, text: str, reason: str) -> None:
    """Store in the background so the citizen's answer is not delayed; failures are logged, never raised."""
    if not text:
        return

    async def _run() -> None:
        try:
            await db.run_sync(record, sender_id, text, reason)
        except Exception:  # the log must never break a conversation
            log.exception("could not record an unanswered question")

    try:
        task = asyncio.get_running_loop().create_task(_run())
    except RuntimeError:  # no loop (command line use): store synchronously
        record(sender_id, text, reason)
        return
    _pending.add(task)
    task.add_done_callback(_pending.discard)


def recent(limit: int = 100) -> List[Dict[str, Any]]:
    """The latest unanswered questions, newest first."""
    query = sa.select(db.unanswered).order_by(db.unanswered.c.created_at.desc()).limit(limit)
    with db.get_engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
