"""Citizens' one-tap verdicts ("Có hữu ích không?") on a procedure answer or a finished booking, without Rasa.

When to ask (never twice in a row, once per procedure in a conversation), the question's wording and buttons, and
the rows in infra.db.feedback (sender as infra.masking.user_ref, a reason code - never free text).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from infra import db
from infra.masking import user_ref

UP, DOWN = "up", "down"
KINDS = ("answer", "booking")
# One tap after a 👎: what was wrong. Codes are stored; the titles are what the citizen sees.
REASONS: Dict[str, str] = {
    "missing": "Thiếu thông tin",
    "wrong": "Thông tin chưa đúng",
    "unclear": "Khó hiểu",
    "other_procedure": "Không đúng thủ tục",
}


def _payload(**entities: str) -> str:
    return "/feedback" + json.dumps(entities, ensure_ascii=False)


def should_ask(asked_last_time: bool, already_rated: List[str], subject: str) -> bool:
    """Ask unless the previous answer already asked, or this subject (procedure key, "booking") was asked."""
    return not asked_last_time and subject not in (already_rated or [])


def question(kind: str, procedure_key: Optional[str], aspect: Optional[str], procedure_name: Optional[str]) -> Dict[str, Any]:
    """The short message with 👍 / 👎 buttons (named after the procedure, so two never read the same)."""
    context = {"feedback_kind": kind}
    if procedure_key:
        context["procedure_key"] = procedure_key
    if aspect:
        context["aspect"] = aspect
    if kind == "booking":
        text = "Việc đặt lịch qua trợ lý có thuận tiện với anh/chị không ạ?"
    else:
        text = f"Hướng dẫn «{procedure_name or procedure_key}» có hữu ích với anh/chị không ạ?"
    return {"text": text, "buttons": [
        {"title": "👍 Hữu ích", "payload": _payload(feedback_value=UP, **context)},
        {"title": "👎 Chưa hữu ích", "payload": _payload(feedback_value=DOWN, **context)},
    ]}


def reason_question(kind: str, procedure_key: Optional[str], aspect: Optional[str]) -> Dict[str, Any]:
    """After a 👎: one tap for what was wrong, or an officer."""
    context = {"feedback_kind": kind, "feedback_value": DOWN}
    if procedure_key:
        context["procedure_key"] = procedure_key
    if aspect:
        context["aspect"] = aspect
    reasons = REASONS if kind == "answer" else {k: v for k, v in REASONS.items() if k in ("unclear", "missing")}
    return {"text": "Cảm ơn anh/chị đã góp ý. Chưa hữu ích ở điểm nào ạ? (không bắt buộc)",
            "buttons": [{"title": title, "payload": _payload(feedback_reason=code, **context)}
                        for code, title in reasons.items()] + [{"title": "Gặp cán bộ", "payload": "/human_handoff"}]}


def record(sender_id: str, channel: str, kind: str, value: str, procedure_key: Optional[str] = None,
           aspect: Optional[str] = None, reason: Optional[str] = None) -> int:
    """Store one verdict; a reason given after the 👎 updates that row instead of adding one. Returns the row id."""
    if kind not in KINDS or value not in (UP, DOWN):
        raise ValueError(f"feedback kind/value {kind!r}/{value!r}")
    reason = reason if reason in REASONS else None
    ref = user_ref(sender_id)
    now = dt.datetime.now(dt.timezone.utc)
    table = db.feedback
    with db.get_engine().begin() as conn:
        if reason:
            last = conn.execute(
                sa.select(table.c.id).where(table.c.sender_ref == ref, table.c.kind == kind,
                                            table.c.procedure_key == procedure_key, table.c.value == DOWN,
                                            table.c.reason.is_(None))
                .order_by(table.c.id.desc()).limit(1)).first()
            if last:
                conn.execute(table.update().where(table.c.id == last.id).values(reason=reason))
                return int(last.id)
        result = conn.execute(table.insert().values(
            sender_ref=ref, channel=(channel or "rest")[:32], kind=kind, procedure_key=procedure_key,
            aspect=aspect, value=value, reason=reason, created_at=now))
        return int(result.inserted_primary_key[0])


def rows(since: Optional[dt.datetime] = None) -> List[Dict[str, Any]]:
    """Stored verdicts, oldest first (for the dashboard and tests)."""
    query = sa.select(db.feedback).order_by(db.feedback.c.id)
    if since is not None:
        query = query.where(db.feedback.c.created_at >= since)
    with db.get_engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
