"""A message that only gives information (a phone, digits, a long booking request the NLU took as "inform"):
serve what it is for instead of asking what the citizen wants."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher


def private_details_asked(tracker: Tracker) -> bool:
    """After a lookup, a message that asks the applicant's name or phone goes to the proof, whatever its intent."""
    from onestop.dossiers.codes import asks_private

    text = str(tracker.latest_message.get("text") or "")
    return bool(tracker.get_slot("last_dossier_code")) and not text.startswith("/") and asks_private(text) \
        and not tracker.active_loop_name


class ActionInform(Action):
    """Information given unasked: a call-back number, a booking request, proof digits, or (else) a question."""

    def name(self) -> Text:
        return "action_inform"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        from actions.appointments.combined import wants_booking
        from actions.callbacks import take_callback
        from onestop.dossiers.codes import proof_digits

        text = str(tracker.latest_message.get("text") or "")
        if tracker.get_slot("callback_pending") and await take_callback(dispatcher, tracker):
            return [SlotSet("callback_pending", None)]
        if not text.startswith("/") and wants_booking(text):
            return [FollowupAction("booking_form")]  # "đặt lịch ... tên ..., sđt ..." read as information only
        if private_details_asked(tracker):
            return [FollowupAction("dossier_proof_form")]
        if tracker.get_slot("last_dossier_code") and proof_digits(text):
            return [FollowupAction("dossier_proof_form")]  # the digits the bot asked for a moment ago
        dispatcher.utter_message(response="utter_inform_unclear")
        return []
