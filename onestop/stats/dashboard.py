"""The whole dashboard for one set of filters, and its CSV export (one row per figure)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Dict, Iterator, List, Optional, Tuple

from infra.clock import now_local
from onestop.stats import conversations, service
from onestop.stats.events import engine
from onestop.stats.period import Filters

CSV_HEADER = ("section", "series", "key", "value")


def dashboard(f: Filters, now: Optional[dt.datetime] = None, url: Optional[str] = None) -> Dict[str, Any]:
    """Every figure of the dashboard (blocking: async callers use infra.db.run_sync)."""
    now = now or now_local()
    with engine(url).connect() as conn:
        return {
            "filters": f,
            "days": f.days,
            "traffic": conversations.traffic(conn, f),
            "asked": conversations.asked(conn, f),
            "outcomes": conversations.outcomes(conn, f),
            "feedback": conversations.feedback(conn, f),
            "unanswered": conversations.unanswered(conn, f),
            "handoffs": service.handoffs(conn, f, now),
            "bookings": service.bookings(conn, f),
            "notifications": service.notifications(conn, f),
            "callbacks": service.callback_tickets(now),
        }


def figures(data: Dict[str, Any]) -> Iterator[Tuple[str, str, str, Any]]:
    """The dashboard as (section, series, key, value) rows: per-day series keyed by ISO date, rankings by key."""
    days = [d.isoformat() for d in data["days"]]

    def per_day(section: str, name: str, values: List[Any]) -> Iterator[Tuple[str, str, str, Any]]:
        for day, value in zip(days, values):
            yield section, name, day, value

    t = data["traffic"]
    for channel in t["channels"]:
        yield from per_day("messages", channel, t["messages"][channel])
        yield from per_day("conversations", channel, t["conversations"][channel])
    for kind in ("procedures", "aspects"):
        for key, n in data["asked"][kind]:
            yield f"asked_{kind}", "answers", key, n
    for name, values in data["outcomes"].items():
        yield from per_day("outcomes", name, values)
    for row in data["feedback"]:
        key = row["procedure_key"] if row["kind"] == "answer" else "booking"
        yield "feedback", "up", key, row["up"]
        yield "feedback", "down", key, row["down"]
    for reason, values in data["unanswered"].items():
        yield from per_day("unanswered", reason, values)
    h = data["handoffs"]
    for name in ("waiting", "oldest_wait_minutes", "created", "responded", "median_minutes", "p90_minutes"):
        yield "handoffs", name, "", h[name]
    yield from per_day("handoffs", "median_first_response_minutes", h["median_per_day"])
    b = data["bookings"]
    for name in ("booked", "cancelled", "capacity"):
        yield from per_day("bookings", name, b[name])
    for row in b["per_office"]:
        for name in ("booked", "cancelled", "capacity"):
            yield "bookings_per_office", name, row["office_id"], row[name]
    yield "bookings", "no_shows", "", "not recorded" if b["no_shows"] is None else b["no_shows"]
    for status, values in data["notifications"]["by_status"].items():
        yield from per_day("notifications", status, values)
    for row in data["notifications"]["by_purpose"]:
        for status in service.NOTIFICATION_STATUSES:
            yield "notifications_per_purpose", status, row["purpose"], row[status]
    if data["callbacks"] is not None:
        for name, n in data["callbacks"].items():
            yield "callback_tickets", name, "", n


def to_csv(data: Dict[str, Any]) -> str:
    """The CSV text of :func:`figures` (UTF-8 with a header; opens in a spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in figures(data):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()
