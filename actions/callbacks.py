"""Call-back requests left with a hand-off out of working hours: the number, the name and when to call.

Officers see them beside the hand-off (``python -m actions.callbacks list``); the number is kept in full because
an officer has to dial it, and it is never shown back to anyone in a chat.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from typing import Any, Dict, List, Optional, Sequence, Text

import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import db
from actions.hours import describe_next_opening, is_working_time, now_local

metadata = sa.MetaData()
callbacks = sa.Table(
    "handoff_callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("handoff_id", sa.Integer, nullable=True),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("note", sa.String(300), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
_WHEN_RE = re.compile(r"(?:gọi|goi|liên hệ|lien he)[^.,;]{0,40}?(?:sau|trước|truoc|lúc|luc|khoảng|khoang|từ|tu)"
                      r"\s*\d{1,2}\s*(?:h|giờ|gio|:)\s*\d{0,2}[^.,;]{0,20}", re.IGNORECASE)
_CALLBACK_RE = re.compile(r"\b(goi lai|de lai so|lien he lai|goi cho (toi|minh|em)|call lai)\b")


def wants_callback(text: str) -> bool:
    """The citizen asks to be called back ("để lại số", "gọi lại cho mình")."""
    from nlu.textnorm import canonical_words

    return bool(_CALLBACK_RE.search(" ".join(canonical_words(text or ""))))


def offer_callback(moment: Optional[dt.datetime] = None, text: str = "") -> bool:
    """Out of working hours (unless HANDOFF_CALLBACK_OUT_OF_HOURS=0), or when asked for, a hand-off offers a
    call-back instead of pausing the bot."""
    out_of_hours = os.environ.get("HANDOFF_CALLBACK_OUT_OF_HOURS", "1") != "0" and \
        not is_working_time(moment or now_local())
    return out_of_hours or wants_callback(text)


def record_callback(sender_id: str, phone: str, name: Optional[str], note: Optional[str],
                    handoff_id: Optional[int] = None) -> int:
    """Store one call-back request; returns its id."""
    engine = db.get_engine()
    metadata.create_all(engine)
    with engine.begin() as conn:
        result = conn.execute(callbacks.insert().values(
            sender_id=sender_id, handoff_id=handoff_id, phone=phone, name=name, note=(note or "")[:300] or None,
            created_at=dt.datetime.now(dt.timezone.utc)))
        return int(result.inserted_primary_key[0])


def list_callbacks() -> List[Dict[str, Any]]:
    """Every call-back request, newest first (for officers)."""
    engine = db.get_engine()
    metadata.create_all(engine)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(callbacks).order_by(callbacks.c.id.desc()))]


async def take_callback(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Record the phone (and name, preferred time) of the latest message as a call-back; False when none."""
    from actions.appointments.extract import find_name, phone_in
    from actions.handoff_records import record_handoff
    from nlu.patterns import normalize_phone

    text = str(tracker.latest_message.get("text") or "")
    raw = phone_in(tracker)
    if raw is None:
        return False
    phone = normalize_phone(raw)
    if phone is None:
        dispatcher.utter_message(text="Số điện thoại chưa đúng. Anh/chị vui lòng nhập số di động 10 chữ số, ví dụ "
                                      "0912345678, để cán bộ gọi lại.")
        return True
    when = _WHEN_RE.search(text)
    handoff_id = await db.run_sync(record_handoff, tracker.sender_id, tracker.get_latest_input_channel() or "rest",
                                   "callback", "yêu cầu gọi lại")
    await db.run_sync(record_callback, tracker.sender_id, phone, find_name(text),
                      when.group(0) if when else None, handoff_id)
    masked = phone[:3] + "****" + phone[-3:]
    dispatcher.utter_message(
        text=f"Dạ, tôi đã ghi nhận số {masked}" + (f" ({when.group(0).strip()})" if when else "")
             + f" để cán bộ gọi lại trong giờ làm việc, {describe_next_opening(now_local())}. "
               "Trong lúc chờ, anh/chị vẫn có thể hỏi tôi về thủ tục.")
    return True


class ActionCallbackRequest(Action):
    """The number for a call-back, sent after an out-of-hours hand-off offered one."""

    def name(self) -> Text:
        return "action_callback_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if await take_callback(dispatcher, tracker):
            return [SlotSet("callback_pending", None)]
        dispatcher.utter_message(text="Anh/chị vui lòng nhập số điện thoại để cán bộ gọi lại (ví dụ 0912345678).")
        return []


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m actions.callbacks list``: the call-back requests for officers."""
    ap = argparse.ArgumentParser(prog="python -m actions.callbacks")
    ap.add_argument("cmd", choices=["list"])
    ap.parse_args(argv)
    for row in list_callbacks():
        print(f"{row['created_at']:%Y-%m-%d %H:%M}  {row['phone']}  {row['name'] or '-'}  {row['note'] or ''}  "
              f"({row['sender_id']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

