"""What citizens asked and how the bot did: messages and conversations per channel, procedures and aspects asked,
answered / declined / handed off, feedback per procedure, unanswered questions. Blocking (SQL)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from infra import db
from onestop.stats.events import ACTION, SLOT, USER, stats_events
from onestop.stats.period import Filters, count_by_day, local_day, rows, series

E = stats_events.c
# A turn answered from the knowledge base shows as the procedure slot the answering action set (one per answer,
# follow-ups included); office, dossier and booking answers as their own actions.
PROCEDURE_ANSWER = "action_answer_procedure"
OTHER_ANSWERS = ("action_answer_office", "action_show_dossier", "action_show_dossier_details",
                 "action_book_appointment", "action_manage_booking", "action_find_bookings")
# Turns the bot declined outright (the knowledge-base declines are the unanswered table's, see below).
DECLINE_ACTIONS = ("action_out_of_scope", "action_fallback")
UNKNOWN_CHANNEL = "khác"


def _in_range(f: Filters) -> Any:
    start, end = f.utc_bounds
    return sa.and_(E.ts >= start, E.ts < end)


def traffic(conn: Connection, f: Filters) -> Dict[str, Any]:
    """Citizen messages and conversations (different citizens who wrote that day) per channel and day."""
    found = rows(conn.execute(sa.select(E.ts, E.user_ref, E.channel).where(E.kind == USER, _in_range(f))))
    messages: Dict[str, Dict[dt.date, int]] = {}
    people: Dict[str, Dict[dt.date, set]] = {}
    everyone: set = set()
    for r in found:
        channel, day = r["channel"] or UNKNOWN_CHANNEL, local_day(r["ts"])
        messages.setdefault(channel, {}).setdefault(day, 0)
        messages[channel][day] += 1
        people.setdefault(channel, {}).setdefault(day, set()).add(r["user_ref"])
        everyone.add(r["user_ref"])
    channels = sorted(messages)
    return {
        "channels": channels,
        "messages": {c: series(f.days, messages[c]) for c in channels},
        "conversations": {c: series(f.days, {d: len(s) for d, s in people[c].items()}) for c in channels},
        "total_messages": len(found),
        "total_conversations": sum(len(s) for c in people.values() for s in c.values()),
        "citizens": len(everyone),
    }


def asked(conn: Connection, f: Filters, top: int = 10) -> Dict[str, List[Tuple[str, int]]]:
    """The procedures and aspects answered most often (every answer counts, follow-ups included)."""
    def counted(column: Any) -> List[Tuple[str, int]]:
        query = (sa.select(column, sa.func.count().label("n")).where(E.kind == SLOT, column.isnot(None),
                                                                       _in_range(f))
                 .group_by(column).order_by(sa.func.count().desc(), column).limit(top))
        return [(str(r[0]), int(r[1])) for r in conn.execute(query)]
    return {"procedures": counted(E.procedure_key), "aspects": counted(E.aspect)}


def outcomes(conn: Connection, f: Filters) -> Dict[str, List[int]]:
    """Answered, declined and handed-off turns per day.

    Answered: procedure answers (the procedure slot set by the answering action) and office, dossier and booking
    actions. Declined: questions the knowledge base declined (the unanswered table, reason other than
    «catalogue», which was answered from the national catalogue) and out-of-scope or not-understood replies.
    Handed off: hand-offs created (the handoffs table).
    """
    answered = [r["ts"] for r in rows(conn.execute(sa.select(E.ts).where(_in_range(f), sa.or_(
        sa.and_(E.kind == SLOT, E.procedure_key.isnot(None), E.action == PROCEDURE_ANSWER),
        sa.and_(E.kind == ACTION, E.action.in_(OTHER_ANSWERS))))))]
    declined = [r["ts"] for r in rows(conn.execute(sa.select(E.ts).where(
        _in_range(f), E.kind == ACTION, E.action.in_(DECLINE_ACTIONS))))]
    start, end = f.utc_bounds
    U = db.unanswered.c
    declined += [r["created_at"] for r in rows(conn.execute(sa.select(U.created_at).where(
        U.created_at >= start, U.created_at < end, U.reason != "catalogue")))]
    H = db.handoffs.c
    handed = [r["created_at"] for r in rows(conn.execute(sa.select(H.created_at).where(
        H.created_at >= start, H.created_at < end)))]
    return {"answered": series(f.days, count_by_day(answered)), "declined": series(f.days, count_by_day(declined)),
            "handed_off": series(f.days, count_by_day(handed))}


def feedback(conn: Connection, f: Filters) -> List[Dict[str, Any]]:
    """👍 and 👎 per procedure (answers) and for bookings, most rated first."""
    start, end = f.utc_bounds
    F = db.feedback.c
    query = (sa.select(F.kind, F.procedure_key, F.value, sa.func.count().label("n"))
             .where(F.created_at >= start, F.created_at < end).group_by(F.kind, F.procedure_key, F.value))
    table: Dict[Tuple[str, str], Dict[str, int]] = {}
    for r in conn.execute(query):
        key = ("booking", "") if r.kind == "booking" else ("answer", r.procedure_key or "")
        counts = table.setdefault(key, {"up": 0, "down": 0})
        if r.value in counts:
            counts[r.value] += int(r.n)
    out = [{"kind": k, "procedure_key": p, "up": c["up"], "down": c["down"], "total": c["up"] + c["down"],
            "up_rate": round(100 * c["up"] / (c["up"] + c["down"])) if c["up"] + c["down"] else None}
           for (k, p), c in table.items()]
    return sorted(out, key=lambda r: (-r["total"], r["kind"], r["procedure_key"]))


def unanswered(conn: Connection, f: Filters) -> Dict[str, List[int]]:
    """Questions recorded for officers per day, by reason (declined; answered from the national catalogue)."""
    start, end = f.utc_bounds
    U = db.unanswered.c
    by_reason: Dict[str, List[dt.datetime]] = {}
    for r in rows(conn.execute(sa.select(U.created_at, U.reason).where(U.created_at >= start, U.created_at < end))):
        by_reason.setdefault(r["reason"], []).append(r["created_at"])
    return {reason: series(f.days, count_by_day(times)) for reason, times in sorted(by_reason.items())}
