"""Appointment tables and records: statuses, the two SQL tables, the engine that has them, Booking, BookingResult."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from infra import db
from knowledge import calendar

BOOKED = "booked"
CANCELLED = "cancelled"

REMINDER_PENDING = "pending"
REMINDER_SENDING = "sending"      # claimed by a reminder run; never retried, so never sent twice
REMINDER_SENT = "sent"
REMINDER_NOT_SENT_WINDOW = "not_sent_outside_window"
REMINDER_FAILED = "failed"

OK = "ok"
SLOT_FULL = "slot_full"
INVALID_SLOT = "invalid_slot"
NOT_FOUND = "not_found"
INVALID_INPUT = "invalid_input"


class LocalDateTime(sa.types.TypeDecorator):
    """Aware datetimes stored as UTC, read back in Vietnam time (SQLite keeps no offset of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        """Aware (or Vietnam-naive) datetime -> UTC for the database."""
        if value is None:
            return None
        utc = calendar.to_local(value).astimezone(dt.timezone.utc)
        # Naive UTC on SQLite so equal instants compare and index equal as text.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        """Database value -> aware datetime in Vietnam time."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(calendar.tz())


metadata = sa.MetaData()

bookings = sa.Table(
    "appointment_bookings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(9), nullable=False, unique=True),
    sa.Column("office_id", sa.String(64), nullable=False),
    sa.Column("procedure_key", sa.String(64), nullable=True),
    sa.Column("slot_start", LocalDateTime, nullable=False),
    sa.Column("full_name", sa.String(200), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", LocalDateTime, nullable=False),
    sa.Column("updated_at", LocalDateTime, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
    sa.Column("last_user_message_at", LocalDateTime, nullable=False),  # opens the platform's window
    sa.Column("reminder_status", sa.String(32), nullable=False),
    sa.Column("reminder_channel_tag", sa.String(40), nullable=True),
    sa.Column("reminder_at", LocalDateTime, nullable=True),
    sa.Index("ix_appointment_bookings_office_slot", "office_id", "slot_start"),
    sa.Index("ix_appointment_bookings_sender", "sender_id"),
)

slot_capacity = sa.Table(
    "appointment_slot_capacity",
    metadata,
    sa.Column("office_id", sa.String(64), primary_key=True),
    sa.Column("slot_start", LocalDateTime, primary_key=True),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("taken", sa.Integer, nullable=False, default=0),
    sa.CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_appointment_slot_taken"),
)


def get_engine(url: Optional[str] = None) -> Engine:
    """The application's engine (default: infra.db.database_url()) with the appointment tables created."""
    return db.engine_with(metadata, url or db.database_url())


def reset_created() -> None:
    """Forget which databases have the tables (tests drop schemas between runs)."""
    db.forget_tables(metadata)


@dataclass
class Booking:
    """One appointment."""

    code: str
    office_id: str
    procedure_key: Optional[str]
    slot_start: dt.datetime
    full_name: str
    phone: str
    channel: str
    sender_id: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    idempotency_key: Optional[str]
    last_user_message_at: dt.datetime
    reminder_status: str
    reminder_channel_tag: Optional[str] = None


@dataclass
class BookingResult:
    """Outcome of book/cancel/move: ``status`` is ok, slot_full, invalid_slot, not_found or invalid_input."""

    status: str
    booking: Optional[Booking] = None
    alternatives: List[Tuple[dt.datetime, int]] = field(default_factory=list)
    reason: Optional[str] = None
    duplicate: bool = False  # the same confirmation arrived again: the existing booking is returned

    @property
    def ok(self) -> bool:
        """True when the operation succeeded."""
        return self.status == OK


def row_to_booking(row: Any) -> Booking:
    """The Booking of a ``bookings`` row."""
    m = row._mapping
    return Booking(**{f: m[f] for f in Booking.__dataclass_fields__})


def by_code(conn: Connection, code: str) -> Optional[Booking]:
    """The booking with ``code`` (any status), read on ``conn``."""
    row = conn.execute(sa.select(bookings).where(bookings.c.code == code)).first()
    return row_to_booking(row) if row else None
