"""A small, fully known week of activity for the dashboard tests (Mon 23/11/2026 - Thu 26/11/2026, Vietnam time).

Conversation events go through the broker's own conversion (onestop.stats.events.rows_from_event) from the dicts
Rasa publishes; the other tables get rows as their writers store them. The expected figures are in the tests.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from infra import db
from infra.clock import tz
from onestop.appointments import store as appointments
from onestop.stats import events

X, Y = "cap_can_cuoc", "chung_thuc_ban_sao"
BA_DINH, HOAN_KIEM = "phuong_ba_dinh", "phuong_hoan_kiem"
START, END = dt.date(2026, 11, 23), dt.date(2026, 11, 26)
NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=tz())


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Vietnam-time moment of November 2026."""
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=tz())


def utc(moment: dt.datetime) -> dt.datetime:
    """As the application's writers store times: UTC."""
    return moment.astimezone(dt.timezone.utc)


def _turn(sender: str, channel: str, moment: dt.datetime, action: str, intent: str = "ask_procedure",
          procedure: Optional[str] = None, aspect: Optional[str] = None) -> List[Dict[str, Any]]:
    """The events Rasa publishes for one turn (texts included: the conversion must drop them)."""
    ts = moment.timestamp()
    out: List[Dict[str, Any]] = [
        {"sender_id": sender, "event": "user", "timestamp": ts, "text": "0912345678 cho hỏi", "input_channel": channel,
         "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "text": "0912345678 cho hỏi"}},
        {"sender_id": sender, "event": "action", "timestamp": ts + 1, "name": action},
        {"sender_id": sender, "event": "bot", "timestamp": ts + 1, "text": "Dạ, ..."},
    ]
    if procedure:
        out.append({"sender_id": sender, "event": "slot", "timestamp": ts + 1, "name": "procedure_key",
                    "value": procedure})
    if aspect:
        out.append({"sender_id": sender, "event": "slot", "timestamp": ts + 1, "name": "aspect", "value": aspect})
    out.append({"sender_id": sender, "event": "action", "timestamp": ts + 2, "name": "action_listen"})
    return out


def published_events() -> List[Dict[str, Any]]:
    """Every turn of the seeded week, plus one just before it (22/11 23:59) that no figure may count."""
    turns = [
        _turn("zalo-A", "zalo", at(22, 23, 59), "action_answer_procedure", procedure=X, aspect="fee"),
        _turn("zalo-A", "zalo", at(23, 9), "action_answer_procedure", procedure=X, aspect="documents"),
        _turn("zalo-A", "zalo", at(23, 9, 5), "action_answer_procedure", procedure=X, aspect="fee"),
        _turn("fb-B", "messenger", at(23, 10), "action_out_of_scope", intent="out_of_scope"),
        _turn("zalo-C", "zalo", at(24, 8, 30), "action_answer_procedure", procedure=Y, aspect="time"),
        _turn("fb-B", "messenger", at(24, 14), "action_handoff", intent="request_human"),
        _turn("web-D", "rest", at(24, 15), "action_answer_office", intent="ask_office"),
        _turn("zalo-C", "zalo", at(25, 10), "action_answer_procedure"),     # declined: no procedure slot
        _turn("zalo-E", "zalo", at(26, 0, 30), "action_answer_procedure", procedure=X, aspect="documents"),
    ]
    return [e for turn in turns for e in turn]


def seed() -> None:
    """Write the week into the application database of the current environment (APP_DB_PATH)."""
    senders = events.SenderState()
    events.write_rows([row for e in published_events() for row in events.rows_from_event(e, senders)])
    engine = db.get_engine()
    with engine.begin() as conn:
        conn.execute(db.unanswered.insert(), [
            {"sender_id": "zalo-C", "text": "câu hỏi", "reason": "declined", "status": "new",
             "created_at": utc(at(25, 10))},
            {"sender_id": "zalo-G", "text": "câu hỏi", "reason": "catalogue", "status": "new",
             "created_at": utc(at(24, 11))},
        ])
        conn.execute(db.handoffs.insert(), [
            {"sender_id": "fb-B", "channel": "messenger", "reason": "requested", "status": "closed",
             "officer": "Lan", "created_at": utc(at(24, 14)), "updated_at": utc(at(24, 15))},
            {"sender_id": "zalo-H", "channel": "zalo", "reason": "requested", "status": "taken",
             "officer": "Lan", "created_at": utc(at(26, 9)), "updated_at": utc(at(26, 9, 30))},
            {"sender_id": "zalo-I", "channel": "zalo", "reason": "fallback", "status": "waiting", "officer": None,
             "created_at": utc(at(26, 10)), "updated_at": utc(at(26, 10))},
        ])
        conn.execute(db.officer_replies.insert(), [
            {"sender_id": "fb-B", "text": "Dạ", "officer": "Lan", "status": "sent", "created_at": utc(at(24, 14, 12))},
            {"sender_id": "fb-B", "text": "Dạ", "officer": "Lan", "status": "sent", "created_at": utc(at(24, 14, 40))},
        ])
        fb = [(X, "up")] * 3 + [(X, "down"), (Y, "up"), (Y, "down")]
        conn.execute(db.feedback.insert(), [
            {"sender_ref": f"u{i}", "channel": "zalo", "kind": "answer", "procedure_key": key, "aspect": "fee",
             "value": value, "created_at": utc(at(24, 9))} for i, (key, value) in enumerate(fb)] + [
            {"sender_ref": f"b{i}", "channel": "zalo", "kind": "booking", "procedure_key": X, "aspect": None,
             "value": "up", "created_at": utc(at(25, 9))} for i in range(2)])
        notes = [("appointment_reminder", "zns", "sent", BA_DINH, 24)] * 2 + [
            ("appointment_reminder", "zns", "failed", BA_DINH, 24),
            ("dossier_status", "chat", "sent", HOAN_KIEM, 25), ("dossier_status", "none", "skipped", HOAN_KIEM, 25)]
        conn.execute(db.notifications.insert(), [
            {"dedupe_key": f"n{i}", "purpose": p, "route": r, "status": s, "office_id": o,
             "created_at": utc(at(d, 8)), "updated_at": utc(at(d, 8))} for i, (p, r, s, o, d) in enumerate(notes)])
    appointments.get_engine()
    with engine.begin() as conn:
        rows = [(BA_DINH, at(24, 9), appointments.BOOKED), (BA_DINH, at(24, 9), appointments.BOOKED),
                (BA_DINH, at(24, 9, 30), appointments.CANCELLED), (HOAN_KIEM, at(26, 8), appointments.BOOKED),
                (HOAN_KIEM, at(27, 8), appointments.BOOKED)]          # the day after the range
        conn.execute(appointments.bookings.insert(), [
            {"code": f"AB{i:05d}", "office_id": o, "procedure_key": X, "slot_start": slot, "full_name": "Nguyễn Văn A",
             "phone": "0912345678", "channel": "zalo", "sender_id": f"zalo-{i}", "status": status,
             "created_at": at(20, 8), "updated_at": at(20, 8), "last_user_message_at": at(20, 8),
             "reminder_status": appointments.REMINDER_PENDING} for i, (o, slot, status) in enumerate(rows)])


def stored_texts() -> List[str]:
    """Every text value of the statistics table (no message text may be among them)."""
    with events.engine().connect() as conn:
        return [str(v) for row in conn.execute(sa.select(events.stats_events)) for v in row if isinstance(v, str)]
