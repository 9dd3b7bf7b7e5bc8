"""Rasa adapter of procedure questions: the latest message and slots in, knowledge.answering's reply out.

The answering itself (context, follow-ups, clarifying questions, declines) lives in knowledge.answering.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import ask_after
from knowledge import client as kc
from knowledge.answering import Question, answer
from onestop.handoffs import unanswered


def _entity_values(tracker: Tracker, name: str) -> List[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", [])
            if e.get("entity") == name and e.get("value")]


def question_of(tracker: Tracker) -> Question:
    """The citizen's latest message with the conversation's context."""
    return Question(
        text=str(tracker.latest_message.get("text") or ""),
        current=tracker.get_slot("procedure_key"),
        chosen=next(iter(_entity_values(tracker, "procedure_key")), None),
        asked_aspect=next(iter(_entity_values(tracker, "aspect")), None),
        names_procedure=bool(_entity_values(tracker, "procedure")),
        offered=list(tracker.get_slot("procedure_candidates") or []),
    )


class ActionAnswerProcedure(Action):
    """Answer a procedure question for the aspect asked, keeping the procedure in context."""

    def name(self) -> Text:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        from actions.appointments.combined import wants_booking

        question = question_of(tracker)
        reply = await answer(question)
        if reply.unanswered:
            unanswered.record_later(tracker.sender_id, question.text.strip(), reply.unanswered)
        for message in reply.messages:
            dispatcher.utter_message(text=message["text"], buttons=message.get("buttons"))
        events: List[EventType] = [SlotSet(name, value) for name, value in reply.slots]
        text = question.text
        if not tracker.active_loop_name and not text.startswith("/") and wants_booking(text):
            return events + [FollowupAction("booking_form")]  # "cần giấy gì, đặt lịch luôn": both, in order
        answered = dict(reply.slots).get("procedure_key")
        if answered and not tracker.active_loop_name:   # a real answer (not a clarifying question or a decline): was it useful?
            events += ask_after(tracker, dispatcher, "answer", answered, dict(reply.slots).get("aspect"),
                                kc.procedure_name(answered))
        return events
