"""Call-back requests left with a hand-off out of working hours: tickets with the number and a promised time.

Each request is a ticket: open until an officer closes it, promised for the next working hours
(knowledge.hours.next_opening of the request, the time the citizen is told), overdue when still open
HANDOFF_CALLBACK_GRACE_MINUTES (default 120) after that. Officers see them beside the hand-off (the staff
console, ``python -m onestop.handoffs tickets``); ``remind-overdue`` logs a WARNING per overdue ticket (there is
no officer messaging channel) and marks it reminded, again every HANDOFF_CALLBACK_REMIND_HOURS (default 4).
The number is kept in full because an officer has to dial it; it is masked in logs and never shown in a chat.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import weakref
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from infra import db
from infra.clock import to_local
from infra.masking import mask_phone, user_ref
from knowledge.hours import describe_next_opening, is_working_time, next_opening, now_local

log = logging.getLogger(__name__)
OPEN, DONE = "open", "done"

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
    # Ticket columns (issue 16), nullable so that ensure_columns can add them to an existing database.
    sa.Column("promised_at", sa.DateTime(timezone=True), nullable=True),   # next working hours after the request
    sa.Column("status", sa.String(16), nullable=True),                     # open | done (NULL: an older row, open)
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("officer", sa.String(128), nullable=True),                   # who closed it
    sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),   # last overdue reminder
)
K = callbacks.c
_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()
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


def _engine(url: Optional[str] = None) -> Engine:
    engine = db.engine_with(metadata, url or db.database_url())
    if engine not in _ready:
        db.ensure_columns(engine, callbacks)  # a database from before tickets keeps working
        _ready.add(engine)
    return engine


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.timezone.utc)


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    """Stored values are UTC; SQLite gives them back without an offset."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


def grace() -> dt.timedelta:
    """How long after the promised time an open ticket becomes overdue (HANDOFF_CALLBACK_GRACE_MINUTES)."""
    return dt.timedelta(minutes=float(os.environ.get("HANDOFF_CALLBACK_GRACE_MINUTES") or 120))


def remind_every() -> dt.timedelta:
    """How often an overdue ticket is reminded again (HANDOFF_CALLBACK_REMIND_HOURS)."""
    return dt.timedelta(hours=float(os.environ.get("HANDOFF_CALLBACK_REMIND_HOURS") or 4))


def promised_time(moment: dt.datetime) -> dt.datetime:
    """When a call-back asked for at ``moment`` is promised: the next working hours (now, when at work)."""
    return next_opening(moment)


def record_callback(sender_id: str, phone: str, name: Optional[str], note: Optional[str],
                    handoff_id: Optional[int] = None, *, now: Optional[dt.datetime] = None,
                    url: Optional[str] = None) -> int:
    """Store one call-back request as an open ticket promised for the next working hours; returns its id."""
    moment = now or now_local()
    with _engine(url).begin() as conn:
        result = conn.execute(callbacks.insert().values(
            sender_id=sender_id, handoff_id=handoff_id, phone=phone, name=name, note=(note or "")[:300] or None,
            created_at=_utc(moment), promised_at=_utc(promised_time(moment)), status=OPEN))
        return int(result.inserted_primary_key[0])


def list_callbacks(url: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every call-back request, newest first (for officers)."""
    with _engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(callbacks).order_by(K.id.desc()))]


def forget(sender_id: str, url: Optional[str] = None) -> int:
    """Delete the call-back requests of ``sender_id`` (erasure on request); returns how many."""
    with _engine(url).begin() as conn:
        return conn.execute(callbacks.delete().where(K.sender_id == sender_id)).rowcount


def _ticket(row: Any, now: dt.datetime) -> Dict[str, Any]:
    ticket = dict(row._mapping)
    for key in ("created_at", "done_at", "reminded_at", "promised_at"):
        ticket[key] = _aware(ticket[key])
    if ticket["promised_at"] is None:  # recorded before tickets existed
        ticket["promised_at"] = promised_time(ticket["created_at"])
    for key in ("created_at", "done_at", "reminded_at", "promised_at"):
        if ticket[key] is not None:
            ticket[key] = to_local(ticket[key])
    ticket["status"] = ticket["status"] or OPEN
    ticket["overdue"] = ticket["status"] == OPEN and now >= ticket["promised_at"] + grace()
    return ticket


def list_open_tickets(now: Optional[dt.datetime] = None, url: Optional[str] = None) -> List[Dict[str, Any]]:
    """Open call-back tickets, soonest promise first; each with ``overdue`` (times in Vietnam time)."""
    now = to_local(now or now_local())
    with _engine(url).connect() as conn:
        rows = conn.execute(sa.select(callbacks).where(sa.or_(K.status.is_(None), K.status == OPEN))).all()
    return sorted((_ticket(r, now) for r in rows), key=lambda t: (t["promised_at"], t["id"]))


def ticket_counts(now: Optional[dt.datetime] = None, url: Optional[str] = None) -> Dict[str, int]:
    """{"open": n, "overdue": m} for the console."""
    tickets = list_open_tickets(now, url)
    return {"open": len(tickets), "overdue": sum(t["overdue"] for t in tickets)}


def close_ticket(ticket_id: int, officer: str, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> bool:
    """An officer called back: the ticket is done; False when there is no such open ticket."""
    with _engine(url).begin() as conn:
        return conn.execute(callbacks.update().where(
            K.id == int(ticket_id), sa.or_(K.status.is_(None), K.status == OPEN),
        ).values(status=DONE, done_at=_utc(now or now_local()), officer=officer[:128])).rowcount == 1


def remind_overdue(now: Optional[dt.datetime] = None, url: Optional[str] = None) -> List[Dict[str, Any]]:
    """Remind officers of each overdue ticket not reminded in the last remind_every(); returns those tickets.

    There is no officer messaging channel: the reminder is a WARNING log line (collected with the service's
    logs) and the console's overdue count.
    """
    now = to_local(now or now_local())
    due = [t for t in list_open_tickets(now, url)
           if t["overdue"] and (t["reminded_at"] is None or t["reminded_at"] + remind_every() <= now)]
    for ticket in due:
        with _engine(url).begin() as conn:
            conn.execute(callbacks.update().where(K.id == ticket["id"]).values(reminded_at=_utc(now)))
        log.warning("call-back ticket #%d is overdue: promised %s, number %s, conversation %s",
                    ticket["id"], f"{ticket['promised_at']:%H:%M %d/%m/%Y}", mask_phone(ticket["phone"]),
                    user_ref(ticket["sender_id"]))
    return due
