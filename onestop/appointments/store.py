"""Bookings in the application's SQL database (SQLite or PostgreSQL); capacity is enforced by the database.

Every booking takes one place of its slot with a conditional ``UPDATE slot_capacity SET taken = taken + 1
WHERE ... AND taken < capacity`` in the same transaction as the INSERT of the booking, so two citizens
confirming the last place at the same moment can never both get it, whatever the dialogue believed.
All functions here are blocking: async callers use ``infra.db.run_sync``.
"""
from __future__ import annotations

import datetime as dt
import hmac
import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from infra import db
from knowledge import calendar
from knowledge.offices import get_office
from knowledge.schema import Office
from vntext.patterns import normalize_booking_code, normalize_phone

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

CODE_ALPHABET = string.ascii_uppercase + string.digits
CODE_RETRIES = 8
N_ALTERNATIVES = 3


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

_created: set = set()
_created_lock = threading.Lock()


def get_engine(url: Optional[str] = None) -> Engine:
    """The application's engine with the appointment tables created."""
    engine = db.get_engine(url)
    key = str(engine.url)
    with _created_lock:
        if key not in _created:
            metadata.create_all(engine)
            _created.add(key)
    return engine


def reset_created() -> None:
    """Forget which databases have the tables (tests drop schemas between runs)."""
    with _created_lock:
        _created.clear()


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


def _row_to_booking(row: Any) -> Booking:
    m = row._mapping
    return Booking(**{f: m[f] for f in Booking.__dataclass_fields__})


def new_code() -> str:
    """A random booking code LH-XXXXXX from the OS's cryptographic RNG."""
    return "LH-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def _now(now: Optional[dt.datetime]) -> dt.datetime:
    return calendar.to_local(now or calendar.now_local())


def _office(office: Any) -> Optional[Office]:
    return office if isinstance(office, Office) else get_office(str(office))


def _ensure_capacity_row(conn: Connection, office: Office, slot: dt.datetime) -> None:
    """Create the slot's counter if missing, portably (a concurrent creator wins silently)."""
    values = {"office_id": office.id, "slot_start": slot, "capacity": office.counters, "taken": 0}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(slot_capacity).values(**values).on_conflict_do_nothing())


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


def _by_code(conn: Connection, code: str) -> Optional[Booking]:
    row = conn.execute(sa.select(bookings).where(bookings.c.code == code)).first()
    return _row_to_booking(row) if row else None


def _by_idempotency(engine: Engine, key: str) -> Optional[Booking]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(bookings).where(bookings.c.idempotency_key == key)).first()
    return _row_to_booking(row) if row else None


def free_slots(office: Any, day: dt.date, now: Optional[dt.datetime] = None,
               url: Optional[str] = None) -> List[Tuple[dt.datetime, int]]:
    """Bookable slots of ``day`` at ``office`` with their free places (full and past slots left out)."""
    office_obj = _office(office)
    if office_obj is None:
        return []
    slots = calendar.bookable_slots(office_obj, day, _now(now))
    if not slots:
        return []
    engine = get_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(slot_capacity.c.slot_start, slot_capacity.c.capacity, slot_capacity.c.taken)
            .where(slot_capacity.c.office_id == office_obj.id, slot_capacity.c.slot_start >= slots[0],
                   slot_capacity.c.slot_start <= slots[-1])
        ).all()
    taken = {r.slot_start: (r.capacity, r.taken) for r in rows}
    out = []
    for s in slots:
        cap, used = taken.get(s, (office_obj.counters, 0))
        if cap - used > 0:
            out.append((s, cap - used))
    return out


def next_free_slots(office: Any, after: dt.datetime, n: int = N_ALTERNATIVES, now: Optional[dt.datetime] = None,
                    url: Optional[str] = None) -> List[Tuple[dt.datetime, int]]:
    """The first ``n`` free slots after ``after`` (same day first, then the next open days)."""
    office_obj = _office(office)
    if office_obj is None:
        return []
    now = _now(now)
    after = calendar.to_local(after)
    out: List[Tuple[dt.datetime, int]] = []
    day = max(after.date(), now.date())
    for _ in range(30):  # a month of full days means the office has no room to offer anyway
        days = calendar.next_bookable_days(office_obj, day, 1, now)
        if not days:
            break
        out.extend(s for s in free_slots(office_obj, days[0], now, url) if s[0] > after)
        if len(out) >= n:
            break
        day = days[0] + dt.timedelta(days=1)
    return out[:n]


def book(office: Any, slot_start: dt.datetime, full_name: str, phone: str, *, channel: str, sender_id: str,
         procedure_key: Optional[str] = None, idempotency_key: Optional[str] = None,
         now: Optional[dt.datetime] = None, url: Optional[str] = None) -> BookingResult:
    """Book one place at ``slot_start``; the same ``idempotency_key`` twice gives the one booking back."""
    now = _now(now)
    office_obj = _office(office)
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
            booking = _by_code(conn, code)
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
    booking = _by_code(conn, norm_code) if norm_code else None
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
    now = _now(now)
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
            return BookingResult(OK, _by_code(conn, booking.code))

    return _retry_busy(attempt)


def move(code: str, phone: str, new_slot: dt.datetime, *, now: Optional[dt.datetime] = None,
         url: Optional[str] = None) -> BookingResult:
    """Move a booking to ``new_slot`` if it has a free place (the old place is freed in the same transaction)."""
    now = _now(now)
    engine = get_engine(url)
    with engine.connect() as conn:
        current = _verify(conn, code, phone)
    if current is None:
        return BookingResult(NOT_FOUND)
    office_obj = _office(current.office_id)
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
                return BookingResult(OK, _by_code(conn, current.code))
        except _Abort:
            return BookingResult(NOT_FOUND)

    result = _retry_busy(attempt)
    if result.status == SLOT_FULL:
        result.alternatives = next_free_slots(office_obj, slot, now=now, url=url)
    return result


def list_day(office_id: str, day: dt.date, url: Optional[str] = None) -> List[Booking]:
    """All bookings (booked and cancelled) of ``office_id`` on ``day``, by slot, for officers."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=calendar.tz())
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.select(bookings)
            .where(bookings.c.office_id == office_id, bookings.c.slot_start >= start,
                   bookings.c.slot_start < start + dt.timedelta(days=1))
            .order_by(bookings.c.slot_start, bookings.c.created_at, bookings.c.id)
        ).all()
    return [_row_to_booking(r) for r in rows]


def touch_user(sender_id: str, when: Optional[dt.datetime] = None, url: Optional[str] = None) -> int:
    """Record that ``sender_id`` just wrote (re-opens the platform's messaging window for reminders)."""
    when = _now(when)
    with get_engine(url).begin() as conn:
        return conn.execute(bookings.update()
                            .where(bookings.c.sender_id == sender_id, bookings.c.status == BOOKED)
                            .values(last_user_message_at=when)).rowcount


def due_reminders(now: Optional[dt.datetime] = None, url: Optional[str] = None) -> List[Booking]:
    """Active bookings of tomorrow (Vietnam time) whose reminder has not been handled yet."""
    now = _now(now)
    start = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=calendar.tz())
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.select(bookings)
            .where(bookings.c.status == BOOKED, bookings.c.reminder_status == REMINDER_PENDING,
                   bookings.c.slot_start >= start, bookings.c.slot_start < start + dt.timedelta(days=1))
            .order_by(bookings.c.slot_start, bookings.c.id)
        ).all()
    return [_row_to_booking(r) for r in rows]


def claim_reminder(code: str, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> bool:
    """Mark a pending reminder as being sent; False when another run already took it."""
    with get_engine(url).begin() as conn:
        return conn.execute(bookings.update()
                            .where(bookings.c.code == code, bookings.c.reminder_status == REMINDER_PENDING)
                            .values(reminder_status=REMINDER_SENDING, reminder_at=_now(now))).rowcount == 1


def set_reminder_status(code: str, status: str, channel_tag: Optional[str] = None,
                        now: Optional[dt.datetime] = None, url: Optional[str] = None) -> None:
    """Record what happened to a booking's reminder."""
    with get_engine(url).begin() as conn:
        conn.execute(bookings.update().where(bookings.c.code == code)
                     .values(reminder_status=status, reminder_channel_tag=channel_tag, reminder_at=_now(now)))


def get_booking(code: str, url: Optional[str] = None) -> Optional[Booking]:
    """A booking by code, for officers and internal jobs only (citizens go through ``find_booking``)."""
    norm = normalize_booking_code(code or "")
    if norm is None:
        return None
    with get_engine(url).connect() as conn:
        return _by_code(conn, norm)


def slot_usage(office_id: str, slot: dt.datetime, url: Optional[str] = None) -> Optional[Dict[str, int]]:
    """{capacity, taken} of one slot, or None when nobody booked it yet."""
    with get_engine(url).connect() as conn:
        row = conn.execute(sa.select(slot_capacity.c.capacity, slot_capacity.c.taken)
                           .where(slot_capacity.c.office_id == office_id,
                                  slot_capacity.c.slot_start == calendar.to_local(slot))).first()
    return {"capacity": row.capacity, "taken": row.taken} if row else None
