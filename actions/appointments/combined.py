"""Two requests in one message: a procedure question and a booking ("cần giấy gì, đặt lịch luôn được không").

Whichever intent the message was classified as, both are served in the order a citizen expects: the question is
answered first, then the booking starts with what the message gave.
"""
from __future__ import annotations

import logging
import re
from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.appointments.extract import folded, text_of

log = logging.getLogger(__name__)

_BOOKING_RE = re.compile(r"\b(dat lich|dat hen|hen lich|lay lich|dang ky lich|book lich|xep lich|dat cho)\b")
# Questions about an aspect of a procedure (documents, fee, time, steps, place), not about the booking itself.
_QUESTION_RE = re.compile(
    r"\b(can (mang |chuan bi )?(nhung )?(giay to|giay|ho so|gi)|mang (nhung )?(giay to |giay )?gi|"
    r"giay to gi|ho so gi|bao nhieu tien|le phi|phi bao nhieu|mat bao lau|bao lau|mat may ngay|"
    r"(lam|thu tuc) (the nao|nhu the nao|ra sao)|nop o dau|lam o dau|dieu kien)\b")


def wants_booking(text: str) -> bool:
    """The message asks for an appointment ("đặt lịch", "hẹn lịch"...)."""
    return bool(_BOOKING_RE.search(folded(text)))


def asks_procedure(text: str) -> bool:
    """The message also asks about a procedure's documents, fee, time, steps or place."""
    return bool(_QUESTION_RE.search(folded(text)))


async def answer_embedded_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Answer the procedure question a booking message carries (nothing when it carries none)."""
    from knowledge import client as kc

    text = text_of(tracker)
    if not asks_procedure(text):
        return []
    try:
        outcome = await kc.search(text)
    except Exception:
        log.exception("knowledge search failed for a question asked with a booking")
        return []
    if outcome.declined or not outcome.results:
        return []
    key = outcome.results[0].key
    answer = kc.compose(key, outcome.aspect)
    dispatcher.utter_message(text=answer.text)
    return [SlotSet("procedure_key", key), SlotSet("aspect", outcome.aspect)]
