"""Consent to receive Zalo notification (ZNS) messages at a phone number, per purpose.

A ZNS message reaches a phone, not a conversation, and it costs the office money: it is sent only when the
citizen said yes to that purpose and gave that number. The key is the platform sender id (the one bookings and
subscriptions carry), so a reminder or a status change finds the consent of the conversation it belongs to.
Withdrawing keeps the row (when and what was agreed is the record of consent) but no message goes any more.
All functions are blocking: async callers use ``infra.db.run_sync``.
"""
from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Union

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from infra import db
from infra.clock import utc_now
from infra.masking import mask_text
from vntext.patterns import normalize_phone

APPOINTMENT_REMINDER = "appointment_reminder"
DOSSIER_STATUS = "dossier_status"
CALLBACK_SCHEDULED = "callback_scheduled"
PURPOSES = (APPOINTMENT_REMINDER, DOSSIER_STATUS, CALLBACK_SCHEDULED)

metadata = sa.MetaData()
consents = sa.Table(
    "notify_consents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),            # 0xxxxxxxxx, in full: ZNS needs it
    sa.Column("channel", sa.String(32), nullable=True),
    sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("source", sa.String(300), nullable=True),           # what the citizen answered (masked)
    sa.UniqueConstraint("sender_id", "purpose", name="uq_notify_consents_sender_purpose"),
)
C = consents.c
_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()


@dataclass
class Consent:
    """One purpose a citizen agreed to, at one phone."""

    sender_id: str
    purpose: str
    phone: str
    channel: Optional[str]
    given_at: dt.datetime
    withdrawn_at: Optional[dt.datetime]
    source: Optional[str]

    @property
    def active(self) -> bool:
        """True until withdrawn."""
        return self.withdrawn_at is None


def _engine(url: Optional[str]) -> Engine:
    engine = db.engine_with(metadata, url or db.database_url())
    if engine not in _ready:
        db.ensure_columns(engine, consents)
        _ready.add(engine)
    return engine


def _purposes(purposes: Union[str, Iterable[str], None]) -> List[str]:
    if purposes is None:
        return list(PURPOSES)
    items = [purposes] if isinstance(purposes, str) else list(purposes)
    unknown = [p for p in items if p not in PURPOSES]
    if unknown or not items:
        raise ValueError(f"unknown consent purpose(s) {unknown or items}; known: {', '.join(PURPOSES)}")
    return list(dict.fromkeys(items))


def _aware(value: Optional[dt.datetime]) -> Optional[dt.datetime]:
    if value is not None and value.tzinfo is None:  # SQLite keeps no offset; we store UTC
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def record_consent(sender_id: str, phone: str, purposes: Union[str, Iterable[str]], *,
                   channel: Optional[str] = None, source: Optional[str] = None,
                   now: Optional[dt.datetime] = None, url: Optional[str] = None) -> str:
    """The citizen agreed to ZNS messages for ``purposes`` at ``phone``; returns the normalised phone.

    Idempotent; agreeing again (with a new number) replaces the number and lifts a withdrawal.
    ValueError when the phone is not a Vietnamese mobile number or a purpose is unknown.
    """
    normalised = normalize_phone(phone or "")
    if not normalised:
        raise ValueError("not a Vietnamese phone number")
    when = (now or utc_now()).astimezone(dt.timezone.utc)
    rows = [{"sender_id": sender_id, "purpose": p, "phone": normalised, "channel": channel, "given_at": when,
             "withdrawn_at": None, "source": mask_text(source, 300) if source else None}
            for p in _purposes(purposes)]
    with _engine(url).begin() as conn:
        db.upsert(conn, consents, rows, ["sender_id", "purpose"], {
            "phone": lambda ex: ex.phone, "channel": lambda ex: ex.channel, "given_at": lambda ex: ex.given_at,
            "withdrawn_at": None, "source": lambda ex: ex.source})
    return normalised


def withdraw_consent(sender_id: str, purposes: Union[str, Iterable[str], None] = None, *,
                     now: Optional[dt.datetime] = None, url: Optional[str] = None) -> int:
    """Stop ZNS messages for ``purposes`` (None: every purpose, "hủy nhận tin"); returns how many were active."""
    with _engine(url).begin() as conn:
        return conn.execute(consents.update().where(
            C.sender_id == sender_id, C.purpose.in_(_purposes(purposes)), C.withdrawn_at.is_(None),
        ).values(withdrawn_at=(now or utc_now()).astimezone(dt.timezone.utc))).rowcount


def get_consent(sender_id: str, purpose: str, url: Optional[str] = None) -> Optional[Consent]:
    """The consent record of ``sender_id`` for ``purpose`` (active or withdrawn), if any."""
    with _engine(url).connect() as conn:
        row: Any = conn.execute(sa.select(consents).where(
            C.sender_id == sender_id, C.purpose == _purposes(purpose)[0])).first()
    if row is None:
        return None
    m = row._mapping
    return Consent(m["sender_id"], m["purpose"], m["phone"], m["channel"], _aware(m["given_at"]),  # type: ignore
                   _aware(m["withdrawn_at"]), m["source"])


def has_consent(sender_id: str, purpose: str, phone: Optional[str] = None, url: Optional[str] = None) -> bool:
    """True when ``sender_id`` agreed to ``purpose`` and has not withdrawn (at ``phone``, when given)."""
    consent = get_consent(sender_id, purpose, url)
    if consent is None or not consent.active:
        return False
    return phone is None or normalize_phone(phone) == consent.phone


def consented_phone(sender_id: str, purpose: str, url: Optional[str] = None) -> Optional[str]:
    """The phone ``sender_id`` agreed to receive ``purpose`` messages at, or None without active consent."""
    consent = get_consent(sender_id, purpose, url)
    return consent.phone if consent is not None and consent.active else None


def forget(sender_id: str, url: Optional[str] = None) -> int:
    """Delete every consent row of ``sender_id`` (erasure on request, privacy.erase); returns how many."""
    with _engine(url).begin() as conn:
        return conn.execute(consents.delete().where(C.sender_id == sender_id)).rowcount
