"""Hand-off rows in the application database: recording a waiting hand-off (personal data masked).

Kept apart from the hand-off actions so that the call-back requests (actions.callbacks) record one without
importing the actions that offer them.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlalchemy as sa

from actions import db


def _mask(text: Optional[str]) -> Optional[str]:
    """Mask phone and ID numbers before anything is stored for staff lists."""
    from infra.masking import mask_text

    return mask_text(text, limit=500)


def record_handoff(sender_id: str, channel: str, reason: str, last_message: Optional[str]) -> int:
    """Insert (or refresh) the waiting hand-off of ``sender_id``; return its id."""
    engine = db.get_engine()
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        open_row = conn.execute(
            sa.select(db.handoffs.c.id).where(
                db.handoffs.c.sender_id == sender_id, db.handoffs.c.status.in_(["waiting", "taken"])
            )
        ).first()
        if open_row:
            conn.execute(
                db.handoffs.update().where(db.handoffs.c.id == open_row.id)
                .values(updated_at=now, last_message=_mask(last_message))
            )
            return int(open_row.id)
        result = conn.execute(db.handoffs.insert().values(
            sender_id=sender_id, channel=channel, reason=reason, last_message=_mask(last_message),
            status="waiting", created_at=now, updated_at=now,
        ))
        return int(result.inserted_primary_key[0])
