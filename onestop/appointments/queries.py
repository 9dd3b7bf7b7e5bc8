"""Reading bookings: free slots, a day's list for officers, tomorrow's due reminders, one booking or slot."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from knowledge import calendar
from knowledge.offices import get_office
from knowledge.schema import Office
from onestop.appointments.tables import BOOKED, REMINDER_PENDING, Booking, bookings, by_code, get_engine, \
    row_to_booking, slot_capacity
from vntext.patterns import normalize_booking_code

N_ALTERNATIVES = 3


def local_now(now: Optional[dt.datetime]) -> dt.datetime:
    """``now`` (default: the clock) in Vietnam time."""
    return calendar.to_local(now or calendar.now_local())


def office_of(office: Any) -> Optional[Office]:
    """An Office as given, or the office with that id (None when unknown)."""
    return office if isinstance(office, Office) else get_office(str(office))


def free_slots(office: Any, day: dt.date, now: Optional[dt.datetime] = None,
               url: Optional[str] = None) -> List[Tuple[dt.datetime, int]]:
    """Bookable slots of ``day`` at ``office`` with their free places (full and past slots left out)."""
    office_obj = office_of(office)
    if office_obj is None:
        return []
    slots = calendar.bookable_slots(office_obj, day, local_now(now))
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
    office_obj = office_of(office)
    if office_obj is None:
        return []
    now = local_now(now)
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
    return [row_to_booking(r) for r in rows]


def due_reminders(now: Optional[dt.datetime] = None, url: Optional[str] = None) -> List[Booking]:
    """Active bookings of tomorrow (Vietnam time) whose reminder has not been handled yet."""
    now = local_now(now)
    start = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=calendar.tz())
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.select(bookings)
            .where(bookings.c.status == BOOKED, bookings.c.reminder_status == REMINDER_PENDING,
                   bookings.c.slot_start >= start, bookings.c.slot_start < start + dt.timedelta(days=1))
            .order_by(bookings.c.slot_start, bookings.c.id)
        ).all()
    return [row_to_booking(r) for r in rows]


def get_booking(code: str, url: Optional[str] = None) -> Optional[Booking]:
    """A booking by code, for officers and internal jobs only (citizens go through ``find_booking``)."""
    norm = normalize_booking_code(code or "")
    if norm is None:
        return None
    with get_engine(url).connect() as conn:
        return by_code(conn, norm)


def slot_usage(office_id: str, slot: dt.datetime, url: Optional[str] = None) -> Optional[Dict[str, int]]:
    """{capacity, taken} of one slot, or None when nobody booked it yet."""
    with get_engine(url).connect() as conn:
        row = conn.execute(sa.select(slot_capacity.c.capacity, slot_capacity.c.taken)
                           .where(slot_capacity.c.office_id == office_id,
                                  slot_capacity.c.slot_start == calendar.to_local(slot))).first()
    return {"capacity": row.capacity, "taken": row.taken} if row else None
