"""Rasa actions of the hand-off to an officer: record it, tell the citizen when officers work, pause the bot.

The hand-off itself (rows, replies, resume, wording) lives in onestop.handoffs; officers work in the staff console.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.callbacks import take_callback
from infra import db
from knowledge.hours import now_local
from onestop.handoffs.callbacks import offer_callback
from onestop.handoffs.messages import callback_offer_message, handoff_message
from onestop.handoffs.records import record_handoff
from onestop.handoffs.replies import take_pending_replies

MAX_FALLBACKS_BEFORE_HANDOFF = 2


class ActionHandoff(Action):
    """Hand the conversation to an officer and pause the bot."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reason = "fallback" if (tracker.get_slot("fallback_count") or 0) >= MAX_FALLBACKS_BEFORE_HANDOFF \
            else "requested"
        channel = (tracker.get_latest_input_channel() or "rest")
        await db.run_sync(record_handoff, tracker.sender_id, channel, reason,
                          tracker.latest_message.get("text"))
        # A form in progress (e.g. asking a dossier code) ends: the officer takes the conversation from here.
        stop_form = [ActiveLoop(None), SlotSet("requested_slot", None)] if tracker.active_loop_name else []
        if offer_callback(now_local(), str(tracker.latest_message.get("text") or "")):
            # No officer reads it now: offer a call-back and keep answering meanwhile (no pause).
            dispatcher.utter_message(text=callback_offer_message())
            taken = await take_callback(dispatcher, tracker)
            return stop_form + [SlotSet("fallback_count", 0.0), SlotSet("callback_pending", None if taken else True)]
        dispatcher.utter_message(text=handoff_message())
        return stop_form + [SlotSet("fallback_count", 0.0), ConversationPaused()]


class ActionFallback(Action):
    """Ask the citizen to rephrase; after repeated misunderstandings offer an officer."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        from actions.conversation import private_details_asked

        if private_details_asked(tracker):
            return [FollowupAction("dossier_proof_form")]  # the applicant's details asked after a lookup
        from actions.out_of_scope import refuse_bulk_request

        if refuse_bulk_request(dispatcher, str(tracker.latest_message.get("text") or "")):
            return []   # "in danh sách hồ sơ kèm số điện thoại", however the NLU read it
        count = float(tracker.get_slot("fallback_count") or 0) + 1
        if count >= MAX_FALLBACKS_BEFORE_HANDOFF:
            dispatcher.utter_message(
                text="Xin lỗi, tôi vẫn chưa hiểu ý anh/chị. Anh/chị có muốn trao đổi với cán bộ không?",
                buttons=[{"title": "Gặp cán bộ", "payload": "/human_handoff"},
                         {"title": "Hỏi lại", "payload": "/greet"}],
            )
        else:
            dispatcher.utter_message(response="utter_default")
        return [SlotSet("fallback_count", count)]


class ActionResetFallback(Action):
    """Forget earlier misunderstandings once the bot understood something."""

    def name(self) -> Text:
        return "action_reset_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        return [SlotSet("fallback_count", 0.0)] if tracker.get_slot("fallback_count") else []


class ActionOfficerReply(Action):
    """Send the officer's queued reply through the conversation's channel (run by the console while paused)."""

    def name(self) -> Text:
        return "action_officer_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        for row in await db.run_sync(take_pending_replies, tracker.sender_id):
            dispatcher.utter_message(text=row["text"])
        return []



if __name__ == "__main__":   # ``python -m actions.handoff list|take|resume``: the old name of onestop.handoffs' CLI
    import sys

    from onestop.handoffs.__main__ import main

    sys.exit(main())
