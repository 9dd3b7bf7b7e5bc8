"""Rasa side of the "Có hữu ích không?" question: asking it after an answer or a booking, and taking the tap."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from infra import db
from onestop import feedback

THANKS_UP = "Cảm ơn anh/chị đã phản hồi ạ. Anh/chị cần hỏi thêm gì cứ nhắn cho tôi nhé."
THANKS_REASON = ("Cảm ơn anh/chị, góp ý đã được ghi lại để cán bộ hoàn thiện hướng dẫn. Anh/chị cần hỏi thêm gì cứ "
                 "nhắn cho tôi nhé.")


def ask_after(tracker: Tracker, dispatcher: CollectingDispatcher, kind: str, procedure_key: Optional[str],
              aspect: Optional[str] = None, procedure_name: Optional[str] = None) -> List[EventType]:
    """Append the feedback question when it is due; the slot events that remember it (none when nothing changes)."""
    subject = procedure_key if kind == "answer" else "booking"
    asked_last = bool(tracker.get_slot("feedback_asked"))
    rated = list(tracker.get_slot("feedback_rated") or [])
    if not subject or not feedback.should_ask(asked_last, rated, subject):
        return [SlotSet("feedback_asked", False)] if asked_last else []
    message = feedback.question(kind, procedure_key, aspect, procedure_name)
    dispatcher.utter_message(text=message["text"], buttons=message["buttons"])
    return [SlotSet("feedback_asked", True), SlotSet("feedback_rated", rated + [subject])]


def _entity(tracker: Tracker, name: str) -> Optional[str]:
    for e in tracker.latest_message.get("entities", []):
        if e.get("entity") == name and e.get("value"):
            return str(e["value"])
    return None


class ActionFeedback(Action):
    """A 👍 / 👎 tap (and, after a 👎, the reason tap): stored, thanked, never asked again for that subject."""

    def name(self) -> Text:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        value = _entity(tracker, "feedback_value")
        kind = _entity(tracker, "feedback_kind") or "answer"
        key, aspect, reason = _entity(tracker, "procedure_key"), _entity(tracker, "aspect"), \
            _entity(tracker, "feedback_reason")
        if value not in (feedback.UP, feedback.DOWN) or kind not in feedback.KINDS:
            dispatcher.utter_message(text=THANKS_UP)   # typed, not tapped: nothing reliable to store
            return []
        await db.run_sync(feedback.record, tracker.sender_id, tracker.get_latest_input_channel() or "rest",
                          kind, value, key, aspect, reason)
        if value == feedback.UP:
            dispatcher.utter_message(text=THANKS_UP)
        elif reason:
            dispatcher.utter_message(text=THANKS_REASON)
        else:
            message = feedback.reason_question(kind, key, aspect)
            dispatcher.utter_message(text=message["text"], buttons=message["buttons"])
        return [SlotSet("feedback_asked", False)]
