"""Hand-off rows in the application database: waiting, taken by an officer, closed (personal data masked).

Recorded by the hand-off action and the Zalo channel (an officer replying from the OA manager), listed, taken and
closed by officers in the staff console or ``python -m onestop.handoffs``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from infra import db


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


def list_handoffs(include_closed: bool = False) -> List[Dict[str, Any]]:
    """Hand-offs for staff, newest first."""
    query = sa.select(db.handoffs).order_by(db.handoffs.c.created_at.desc())
    if not include_closed:
        query = query.where(db.handoffs.c.status != "closed")
    with db.get_engine().connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]



def set_status(sender_id: str, status: str, officer: Optional[str] = None) -> int:
    """Mark the open hand-off of ``sender_id`` taken or closed; return the number of rows changed."""
    values: Dict[str, Any] = {"status": status, "updated_at": dt.datetime.now(dt.timezone.utc)}
    if officer:
        values["officer"] = officer
    with db.get_engine().begin() as conn:
        return conn.execute(
            db.handoffs.update()
            .where(db.handoffs.c.sender_id == sender_id, db.handoffs.c.status != "closed")
            .values(**values)
        ).rowcount


def is_open(sender_id: str) -> bool:
    """Whether ``sender_id`` has a hand-off waiting for or taken by an officer (not closed)."""
    with db.get_engine().connect() as conn:
        return conn.execute(sa.select(db.handoffs.c.id).where(
            db.handoffs.c.sender_id == sender_id, db.handoffs.c.status.in_(["waiting", "taken"]))).first() is not None
