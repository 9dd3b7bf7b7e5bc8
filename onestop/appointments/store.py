"""Bookings in the application's SQL database (SQLite or PostgreSQL); capacity is enforced by the database.

Every booking takes one place of its slot with a conditional ``UPDATE slot_capacity SET taken = taken + 1
WHERE ... AND taken < capacity`` in the same transaction as the INSERT of the booking, so two citizens
confirming the last place at the same moment can never both get it, whatever the dialogue believed.
This module owns the writes (book, cancel, move, reminder bookkeeping); the tables and records
(onestop.appointments.tables) and the reads (onestop.appointments.queries) are re-exported, so
``from onestop.appointments import store`` stays the one entry point. All functions here are blocking: async
callers use ``infra.db.run_sync``.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
import string
import threading
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from infra import db
from knowledge import calendar
from knowledge.schema import Office
from onestop.appointments.queries import (
    N_ALTERNATIVES, due_reminders, free_slots, get_booking, list_day, local_now, next_free_slots, office_of,
    slot_usage,
)
from onestop.appointments.tables import (
    BOOKED, CANCELLED, INVALID_INPUT, INVALID_SLOT, NOT_FOUND, OK, REMINDER_FAILED, REMINDER_NOT_SENT_WINDOW,
    REMINDER_PENDING, REMINDER_SENDING, REMINDER_SENT, SLOT_FULL, Booking, BookingResult, LocalDateTime, bookings,
    by_code, get_engine, metadata, reset_created, row_to_booking, slot_capacity,
)
from vntext.patterns import normalize_booking_code, normalize_phone

__all__ = [
    "BOOKED", "CANCELLED", "INVALID_INPUT", "INVALID_SLOT", "NOT_FOUND", "OK", "REMINDER_FAILED",
    "REMINDER_NOT_SENT_WINDOW", "REMINDER_PENDING", "REMINDER_SENDING", "REMINDER_SENT", "SLOT_FULL",
    "CODE_ALPHABET", "CODE_RETRIES", "N_ALTERNATIVES", "Booking", "BookingResult", "LocalDateTime", "bookings",
    "slot_capacity", "metadata", "get_engine", "reset_created", "row_to_booking", "new_code", "book",
    "find_booking", "cancel", "move", "touch_user", "claim_reminder", "set_reminder_status", "free_slots",
    "next_free_slots", "list_day", "due_reminders", "get_booking", "slot_usage",
]

CODE_ALPHABET = string.ascii_uppercase + string.digits
CODE_RETRIES = 8


def new_code() -> str:
    """A random booking code LH-XXXXXX from the OS's cryptographic RNG."""
    return "LH-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def _ensure_capacity_row(conn: Connection, office: Office, slot: dt.datetime) -> None:
    """Create the slot's counter if missing, portably (a concurrent creator wins silently)."""
    values = {"office_id": office.id, "slot_start": slot, "capacity": office.counters, "taken": 0}
    db.upsert(conn, slot_capacity, values, ["office_id", "slot_start"])


def _take_place(conn: Connection, office: Office, slot: dt.datetime) -> bool:
    """Atomically take one place of the slot; False when it is full."""
    _ensure_capacity_row(conn, office, slot)
    res = conn.execute(
        slot_capacity.update()
        .where(slot_capacity.c.office_id == office.id, slot_capacity.c.slot_start == slot,
               slot_capacity.c.taken < slot_capacity.c.capacity)
        .values(taken=slot_capacity.c.taken + 1)
    )
    return res.rowcount == 1


def _give_back(conn: Connection, office_id: str, slot: dt.datetime) -> None:
    conn.execute(
        slot_capacity.update()
        .where(slot_capacity.c.office_id == office_id, slot_capacity.c.slot_start == slot,
               slot_capacity.c.taken > 0)
        .values(taken=slot_capacity.c.taken - 1)
    )


def _validate_slot(office: Office, slot: dt.datetime, now: dt.datetime) -> Optional[str]:
    """Why ``slot`` cannot be booked (None when it can)."""
    slot = calendar.to_local(slot)
    check = calendar.check_date(office, slot.date(), now)
    if not check.ok:
        return check.reason
    if slot not in calendar.day_slots(office, slot.date()):
        return "not_a_slot"
    if slot <= now:
        return calendar.PAST
    return None


def _retry_busy(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``fn``, retrying when SQLite reports a lock it could not wait out (rare, under heavy contention)."""
    for attempt in range(20):
        try:
            return fn(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 19:
                raise
            threading.Event().wait(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _by_idempotency(engine: Engine, key: str) -> Optional[Booking]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(bookings).where(bookings.c.idempotency_key == key)).first()
    return row_to_booking(row) if row else None


def book(office: Any, slot_start: dt.datetime, full_name: str, phone: str, *, channel: str, sender_id: str,
         procedure_key: Optional[str] = None, idempotency_key: Optional[str] = None,
         now: Optional[dt.datetime] = None, url: Optional[str] = None) -> BookingResult:
    """Book one place at ``slot_start``; the same ``idempotency_key`` twice gives the one booking back."""
    now = local_now(now)
    office_obj = office_of(office)
    norm_phone = normalize_phone(phone or "")
    if office_obj is None:
        return BookingResult(INVALID_SLOT, reason="unknown_office")
    if norm_phone is None or not (full_name or "").strip():
        return BookingResult(INVALID_INPUT, reason="phone" if norm_phone is None else "full_name")
    engine = get_engine(url)
    if idempotency_key:
        existing = _by_idempotency(engine, idempotency_key)
        if existing is not None:
            return BookingResult(OK, existing, duplicate=True)
    slot = calendar.to_local(slot_start)
    why = _validate_slot(office_obj, slot, now)
    if why is not None:
        return BookingResult(INVALID_SLOT, reason=why,
                             alternatives=next_free_slots(office_obj, max(slot, now), now=now, url=url))

    def attempt(code: str) -> Optional[BookingResult]:
        with engine.begin() as conn:
            if not _take_place(conn, office_obj, slot):
                return None
            conn.execute(bookings.insert().values(
                code=code, office_id=office_obj.id, procedure_key=procedure_key, slot_start=slot,
                full_name=full_name.strip(), phone=norm_phone, channel=channel, sender_id=sender_id,
                status=BOOKED, created_at=now, updated_at=now, idempotency_key=idempotency_key,
                last_user_message_at=now, reminder_status=REMINDER_PENDING,
            ))
            booking = by_code(conn, code)
        return BookingResult(OK, booking)

    for _ in range(CODE_RETRIES):
        try:
            result = _retry_busy(attempt, new_code())
        except IntegrityError:
            # The whole transaction (and its place) was rolled back. Either the same confirmation won the
            # race on idempotency_key, or the random code collided: return the winner, or draw again.
            if idempotency_key:
                existing = _by_idempotency(engine, idempotency_key)
                if existing is not None:
                    return BookingResult(OK, existing, duplicate=True)
            continue
        if result is None:
            return BookingResult(SLOT_FULL, reason="full",
                                 alternatives=next_free_slots(office_obj, slot, now=now, url=url))
        return result
    raise RuntimeError("could not draw a free booking code")


# Compared against when the code does not exist, so a wrong code costs the same time as a wrong phone.
_DUMMY_PHONE = "0000000000"


def _verify(conn: Connection, code: str, phone: str) -> Optional[Booking]:
    """The active booking when ``code`` exists AND was made with ``phone``; None otherwise, indistinguishably."""
    norm_code = normalize_booking_code(code or "")
    norm_phone = normalize_phone(phone or "") or ""
    booking = by_code(conn, norm_code) if norm_code else None
    stored = booking.phone if booking is not None else _DUMMY_PHONE
    match = hmac.compare_digest(stored.encode(), norm_phone.encode())
    if booking is None or not match or not norm_phone or booking.status != BOOKED:
        return None
    return booking


def find_booking(code: str, phone: str, url: Optional[str] = None) -> Optional[Booking]:
    """The active booking for ``code`` made with ``phone`` (None for a wrong code or a wrong phone)."""
    with get_engine(url).connect() as conn:
        return _verify(conn, code, phone)


def cancel(code: str, phone: str, *, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> BookingResult:
    """Cancel a booking and free its place; a wrong code or phone both give ``not_found``."""
    now = local_now(now)
    engine = get_engine(url)

    def attempt() -> BookingResult:
        with engine.begin() as conn:
            booking = _verify(conn, code, phone)
            if booking is None:
                return BookingResult(NOT_FOUND)
            res = conn.execute(bookings.update()
                               .where(bookings.c.code == booking.code, bookings.c.status == BOOKED)
                               # The key is freed so the same person may book this slot again.
                               .values(status=CANCELLED, updated_at=now, idempotency_key=None))
            if res.rowcount != 1:  # cancelled by a concurrent request
                return BookingResult(NOT_FOUND)
            _give_back(conn, booking.office_id, booking.slot_start)
            return BookingResult(OK, by_code(conn, booking.code))

    return _retry_busy(attempt)


def move(code: str, phone: str, new_slot: dt.datetime, *, now: Optional[dt.datetime] = None,
         url: Optional[str] = None) -> BookingResult:
    """Move a booking to ``new_slot`` if it has a free place (the old place is freed in the same transaction)."""
    now = local_now(now)
    engine = get_engine(url)
    with engine.connect() as conn:
        current = _verify(conn, code, phone)
    if current is None:
        return BookingResult(NOT_FOUND)
    office_obj = office_of(current.office_id)
    if office_obj is None:
        return BookingResult(INVALID_SLOT, reason="unknown_office")
    slot = calendar.to_local(new_slot)
    if slot == current.slot_start:
        return BookingResult(OK, current)
    why = _validate_slot(office_obj, slot, now)
    if why is not None:
        return BookingResult(INVALID_SLOT, reason=why,
                             alternatives=next_free_slots(office_obj, max(slot, now), now=now, url=url))

    class _Abort(Exception):
        pass

    def attempt() -> BookingResult:
        try:
            with engine.begin() as conn:
                if not _take_place(conn, office_obj, slot):
                    return BookingResult(SLOT_FULL, current, reason="full")  # nothing written: commit is empty
                res = conn.execute(bookings.update()
                                   .where(bookings.c.code == current.code, bookings.c.status == BOOKED,
                                          bookings.c.slot_start == current.slot_start)
                                   .values(slot_start=slot, updated_at=now, reminder_status=REMINDER_PENDING,
                                           reminder_channel_tag=None, idempotency_key=None))
                if res.rowcount != 1:
                    raise _Abort()  # changed meanwhile: roll back the place just taken
                _give_back(conn, current.office_id, current.slot_start)
                return BookingResult(OK, by_code(conn, current.code))
        except _Abort:
            return BookingResult(NOT_FOUND)

    result = _retry_busy(attempt)
    if result.status == SLOT_FULL:
        result.alternatives = next_free_slots(office_obj, slot, now=now, url=url)
    return result


def touch_user(sender_id: str, when: Optional[dt.datetime] = None, url: Optional[str] = None) -> int:
    """Record that ``sender_id`` just wrote (re-opens the platform's messaging window for reminders)."""
    when = local_now(when)
    with get_engine(url).begin() as conn:
        return conn.execute(bookings.update()
                            .where(bookings.c.sender_id == sender_id, bookings.c.status == BOOKED)
                            .values(last_user_message_at=when)).rowcount


def claim_reminder(code: str, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> bool:
    """Mark a pending reminder as being sent; False when another run already took it."""
    with get_engine(url).begin() as conn:
        return conn.execute(bookings.update()
                            .where(bookings.c.code == code, bookings.c.reminder_status == REMINDER_PENDING)
                            .values(reminder_status=REMINDER_SENDING, reminder_at=local_now(now))).rowcount == 1


def set_reminder_status(code: str, status: str, channel_tag: Optional[str] = None,
                        now: Optional[dt.datetime] = None, url: Optional[str] = None) -> None:
    """Record what happened to a booking's reminder."""
    with get_engine(url).begin() as conn:
        conn.execute(bookings.update().where(bookings.c.code == code)
                     .values(reminder_status=status, reminder_channel_tag=channel_tag, reminder_at=local_now(now)))
