"""Rasa side of the call-back requests: the number (name, preferred time) taken from the citizen's message."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments.extract import find_name, phone_in
from infra import db
from infra.masking import mask_phone
from knowledge.hours import describe_next_opening, now_local
from onestop.handoffs.callbacks import WHEN_RE, record_callback
from onestop.handoffs.records import record_handoff
from vntext.patterns import normalize_phone


async def take_callback(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Record the phone (and name, preferred time) of the latest message as a call-back; False when none."""
    text = str(tracker.latest_message.get("text") or "")
    raw = phone_in(tracker)
    if raw is None:
        return False
    phone = normalize_phone(raw)
    if phone is None:
        dispatcher.utter_message(text="Số điện thoại chưa đúng. Anh/chị vui lòng nhập số di động 10 chữ số, ví dụ "
                                      "0912345678, để cán bộ gọi lại.")
        return True
    when = WHEN_RE.search(text)
    handoff_id = await db.run_sync(record_handoff, tracker.sender_id, tracker.get_latest_input_channel() or "rest",
                                   "callback", "yêu cầu gọi lại")
    await db.run_sync(record_callback, tracker.sender_id, phone, find_name(text),
                      when.group(0) if when else None, handoff_id)
    masked = mask_phone(phone)
    dispatcher.utter_message(
        text=f"Dạ, tôi đã ghi nhận số {masked}" + (f" ({when.group(0).strip()})" if when else "")
             + f". Cán bộ sẽ gọi lại cho anh/chị {describe_next_opening(now_local())}. "
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
