"""How the offices served: hand-offs waiting and first-response time, bookings against capacity, reminders and
notifications sent and failed, call-back tickets. Blocking (SQL)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from infra import db
from knowledge import calendar
from knowledge.offices import all_offices
from knowledge.schema import Office
from onestop.stats.period import Filters, aware, local_day, median, percentile, rows, series

NOTIFICATION_STATUSES = ("sent", "failed", "skipped", "pending")


def handoffs(conn: Connection, f: Filters, now: dt.datetime) -> Dict[str, Any]:
    """Hand-offs waiting now (and the oldest wait), and the first-response time of those created in the range.

    First response: from the hand-off's creation to the officer's first reply to that citizen, or, without a
    reply, to the moment an officer took it (its status ``taken``).
    """
    H, R = db.handoffs.c, db.officer_replies.c
    now = aware(now)
    waiting = rows(conn.execute(sa.select(H.created_at).where(H.status == "waiting")))
    oldest = max((now - aware(r["created_at"]) for r in waiting), default=None)
    start, end = f.utc_bounds
    created = rows(conn.execute(sa.select(H.sender_id, H.status, H.created_at, H.updated_at)
                                .where(H.created_at >= start, H.created_at < end)))
    senders = sorted({r["sender_id"] for r in created})
    replies: Dict[str, List[dt.datetime]] = {}
    if senders:
        for r in rows(conn.execute(sa.select(R.sender_id, R.created_at).where(R.sender_id.in_(senders)))):
            replies.setdefault(r["sender_id"], []).append(aware(r["created_at"]))
    minutes: List[float] = []
    per_day: Dict[dt.date, List[float]] = {}
    for r in created:
        opened = aware(r["created_at"])
        first = min((t for t in replies.get(r["sender_id"], []) if t >= opened), default=None)
        if first is None and r["status"] == "taken":
            first = aware(r["updated_at"])
        if first is None:
            continue
        wait = (first - opened).total_seconds() / 60
        minutes.append(wait)
        per_day.setdefault(local_day(opened), []).append(wait)
    return {
        "waiting": len(waiting),
        "oldest_wait_minutes": None if oldest is None else round(oldest.total_seconds() / 60, 1),
        "created": len(created),
        "responded": len(minutes),
        "median_minutes": _round(median(minutes)),
        "p90_minutes": _round(percentile(minutes, 90)),
        "median_per_day": [_round(median(per_day.get(d, []))) for d in f.days],
    }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


def offices(f: Filters) -> List[Office]:
    """The offices the filter selects (all when none is chosen)."""
    return [o for o in all_offices() if f.office in (None, o.id)]


def capacity(office: Office, day: dt.date, holidays: Dict[dt.date, str]) -> int:
    """Places the office's calendar offers that day: its slots times its counters (0 on a closed day)."""
    if not calendar.is_open_day(office, day, holidays):
        return 0
    return len(calendar.day_slots(office, day)) * int(office.counters or 0)


def bookings(conn: Connection, f: Filters) -> Dict[str, Any]:
    """Appointments per day (by the day of the appointment) against the calendar's capacity, per office.

    No-shows are not recorded by the booking system; the dashboard says so instead of guessing.
    """
    from onestop.appointments import store as appointments

    appointments.get_engine()   # the bookings tables exist even before the first booking
    B = appointments.bookings.c
    chosen = offices(f)
    ids = [o.id for o in chosen]
    start, end = f.local_bounds
    found = rows(conn.execute(sa.select(B.office_id, B.slot_start, B.status).where(
        B.slot_start >= start, B.slot_start < end, B.office_id.in_(ids))))
    holidays = calendar.holidays_map()
    places = {o.id: [capacity(o, d, holidays) for d in f.days] for o in chosen}
    booked: Dict[dt.date, int] = {}
    cancelled: Dict[dt.date, int] = {}
    per_office = {o.id: {"office_id": o.id, "name": o.name, "booked": 0, "cancelled": 0,
                         "capacity": sum(places[o.id])} for o in chosen}
    for r in found:
        day = calendar.to_local(r["slot_start"]).date()
        if r["status"] == appointments.CANCELLED:
            cancelled[day] = cancelled.get(day, 0) + 1
            per_office[r["office_id"]]["cancelled"] += 1
        else:
            booked[day] = booked.get(day, 0) + 1
            per_office[r["office_id"]]["booked"] += 1
    for row in per_office.values():
        row["used_pct"] = round(100 * row["booked"] / row["capacity"]) if row["capacity"] else None
    return {
        "booked": series(f.days, booked),
        "cancelled": series(f.days, cancelled),
        "capacity": [sum(day) for day in zip(*places.values())] if places else [0] * len(f.days),
        "per_office": sorted(per_office.values(), key=lambda r: (-r["booked"], r["office_id"])),
        "no_shows": None,   # no column records whether the citizen came: shown as «not recorded»
    }


def notifications(conn: Connection, f: Filters) -> Dict[str, Any]:
    """Reminders and notifications per day by status, and per purpose and route."""
    start, end = f.utc_bounds
    N = db.notifications.c
    where = [N.created_at >= start, N.created_at < end]
    if f.office:
        where.append(N.office_id == f.office)
    found = rows(conn.execute(sa.select(N.created_at, N.purpose, N.route, N.status).where(*where)))
    by_status: Dict[str, Dict[dt.date, int]] = {s: {} for s in NOTIFICATION_STATUSES}
    by_purpose: Dict[str, Dict[str, Any]] = {}
    for r in found:
        status, day = r["status"], local_day(r["created_at"])
        by_status.setdefault(status, {})
        by_status[status][day] = by_status[status].get(day, 0) + 1
        row = by_purpose.setdefault(r["purpose"], {"purpose": r["purpose"], "routes": {},
                                                   **{s: 0 for s in NOTIFICATION_STATUSES}})
        row[status] = row.get(status, 0) + 1
        row["routes"][r["route"]] = row["routes"].get(r["route"], 0) + 1
    return {"by_status": {s: series(f.days, c) for s, c in by_status.items()},
            "by_purpose": sorted(by_purpose.values(), key=lambda r: r["purpose"]),
            "total": len(found)}


def callback_tickets(now: dt.datetime) -> Optional[Dict[str, int]]:
    """Open and overdue call-back tickets, when the call-back records have tickets (None otherwise)."""
    from onestop.handoffs import callbacks

    counts = getattr(callbacks, "ticket_counts", None)
    if counts is None:
        return None
    return {k: int(v) for k, v in counts(now).items()}
