"""Call-back requests left with a hand-off out of working hours: the number, the name and when to call.

Officers see them beside the hand-off (the staff console, ``python -m onestop.handoffs callbacks``); the number is kept in full because
an officer has to dial it, and it is never shown back to anyone in a chat.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from infra import db
from knowledge.hours import describe_next_opening, is_working_time, now_local

metadata = sa.MetaData()
callbacks = sa.Table(
    "handoff_callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("handoff_id", sa.Integer, nullable=True),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("note", sa.String(300), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
WHEN_RE = re.compile(r"(?:gọi|goi|liên hệ|lien he)[^.,;]{0,40}?(?:sau|trước|truoc|lúc|luc|khoảng|khoang|từ|tu)"
                      r"\s*\d{1,2}\s*(?:h|giờ|gio|:)\s*\d{0,2}[^.,;]{0,20}", re.IGNORECASE)
_CALLBACK_RE = re.compile(r"\b(goi lai|de lai so|lien he lai|goi cho (toi|minh|em)|call lai)\b")


def wants_callback(text: str) -> bool:
    """The citizen asks to be called back ("để lại số", "gọi lại cho mình")."""
    from vntext.textnorm import canonical_words

    return bool(_CALLBACK_RE.search(" ".join(canonical_words(text or ""))))


def offer_callback(moment: Optional[dt.datetime] = None, text: str = "") -> bool:
    """Out of working hours (unless HANDOFF_CALLBACK_OUT_OF_HOURS=0), or when asked for, a hand-off offers a
    call-back instead of pausing the bot."""
    out_of_hours = os.environ.get("HANDOFF_CALLBACK_OUT_OF_HOURS", "1") != "0" and \
        not is_working_time(moment or now_local())
    return out_of_hours or wants_callback(text)


def record_callback(sender_id: str, phone: str, name: Optional[str], note: Optional[str],
                    handoff_id: Optional[int] = None) -> int:
    """Store one call-back request; returns its id."""
    engine = db.get_engine()
    metadata.create_all(engine)
    with engine.begin() as conn:
        result = conn.execute(callbacks.insert().values(
            sender_id=sender_id, handoff_id=handoff_id, phone=phone, name=name, note=(note or "")[:300] or None,
            created_at=dt.datetime.now(dt.timezone.utc)))
        return int(result.inserted_primary_key[0])


def list_callbacks() -> List[Dict[str, Any]]:
    """Every call-back request, newest first (for officers)."""
    engine = db.get_engine()
    metadata.create_all(engine)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(callbacks).order_by(callbacks.c.id.desc()))]
