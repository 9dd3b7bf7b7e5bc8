"""Finding bookings without their code: those made from the same chat, or by phone number and the booked name.

A phone number alone never reveals a booking (anyone may know it); the chat that booked is its own proof, and
elsewhere the full name given at booking must match too.
"""
from __future__ import annotations

import datetime as dt
from typing import List, Optional

import sqlalchemy as sa

from knowledge import calendar
from onestop.appointments.tables import BOOKED, Booking, bookings, get_engine, row_to_booking
from vntext.patterns import normalize_phone
from vntext.textnorm import fold


def of_sender(sender_id: str, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> List[Booking]:
    """Upcoming, still booked appointments made from this conversation, soonest first."""
    now = calendar.to_local(now or calendar.now_local())
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(bookings).where(bookings.c.sender_id == sender_id,
                                                      bookings.c.status == BOOKED,
                                                      bookings.c.slot_start >= now)
                            .order_by(bookings.c.slot_start)).all()
    return [row_to_booking(r) for r in rows]


def by_phone_and_name(phone: str, name: str, now: Optional[dt.datetime] = None,
                      url: Optional[str] = None) -> List[Booking]:
    """Upcoming bookings whose phone AND full name (diacritics and case ignored) both match."""
    norm = normalize_phone(phone or "")
    if not norm or not name.strip():
        return []
    now = calendar.to_local(now or calendar.now_local())
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.select(bookings).where(bookings.c.phone == norm, bookings.c.status == BOOKED,
                                                      bookings.c.slot_start >= now)
                            .order_by(bookings.c.slot_start)).all()
    wanted = " ".join(fold(name).split())
    return [b for b in map(row_to_booking, rows) if " ".join(fold(b.full_name).split()) == wanted]
