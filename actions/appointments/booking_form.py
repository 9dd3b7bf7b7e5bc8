"""The booking form's own slots: the procedure, the office (any ward or commune of the province) and the name.

Every slot is taken from any message, whichever question was asked; a place the bot cannot book (a ward split in
2025, a ward of another province, a word that is no place) leaves a hint for the office question, which then
says what was understood and offers the options that exist instead of repeating itself.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from onestop.appointments import texts
from actions.appointments.extract import clean_name, entity_value, find_name, is_payload, latest_intent, text_of
from actions.appointments.validation import AppointmentFormBase, asked, is_digression, phone_in, pieces
from knowledge import offices as directory
from knowledge.schema import Office
from vntext.textnorm import fold

log = logging.getLogger(__name__)
HINT_SLOT = "appt_office_hint"


def hint(kind: str, said: str = "", ids: Optional[List[str]] = None, province: str = "", old: bool = False) -> str:
    """What the office question should say about the last place given (a JSON string kept in a slot)."""
    return json.dumps({"kind": kind, "said": said, "ids": ids or [], "province": province, "old": old},
                      ensure_ascii=False)


class ValidateBookingForm(AppointmentFormBase):
    """Office (by name, old name or location; one that receives the procedure), date, time, name, phone."""

    def name(self) -> Text:
        return "validate_booking_form"

    def office_of(self, tracker: Tracker) -> Optional[Office]:
        office_id = tracker.get_slot("appt_office")
        return directory.get_office(office_id) if office_id else None

    async def extract_appt_procedure(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        """From a button, from the procedure in context, or from what the booking message names ("none" if not).

        Never asked: it is listed first in the form so the office can be checked against it.
        """
        if tracker.get_slot("appt_procedure"):
            return {}
        key = entity_value(tracker, "procedure_key") or tracker.get_slot("procedure_key")
        if not key and latest_intent(tracker) in ("book_appointment", "ask_procedure") and not is_payload(tracker):
            key = await self._procedure_from_text(text_of(tracker))
        return {"appt_procedure": key} if key and directory.get_procedure(key) else {"appt_procedure": "none"}

    @staticmethod
    async def _procedure_from_text(text: str) -> Optional[str]:
        from knowledge import client as kc

        try:
            outcome = await kc.search(text)
        except Exception:  # the booking works without knowing the procedure
            log.exception("knowledge search failed while booking")
            return None
        if outcome.declined or not outcome.results:
            return None
        return outcome.results[0].key

    async def validate_appt_procedure(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> Dict[Text, Any]:
        """A procedure no office of ours receives is dropped, with a word about where it is done."""
        key = str(slot_value or "none")
        proc = directory.get_procedure(key) if key != "none" else None
        if proc is None:
            return {"appt_procedure": "none"}
        if not directory.offices_for_procedure(key):
            dispatcher.utter_message(
                text=f"Thủ tục {proc.name} không nộp tại các điểm một cửa mà tôi đặt lịch được. Anh/chị xem nơi nộp "
                     f"tại {proc.official_link or texts.PORTAL}. Tôi vẫn có thể đặt lịch làm việc khác cho anh/chị.")
            return {"appt_procedure": "none"}
        return {"appt_procedure": key}

    def _procedure_key(self, tracker: Tracker) -> Optional[str]:
        key = tracker.get_slot("appt_procedure")
        return None if key in (None, "none") else key

    async def extract_appt_office(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        """An office by button, shared location, or any place words (current, alias or district-era name)."""
        if is_digression(tracker):
            return {}
        office_id = entity_value(tracker, "office_id")
        if office_id:
            return {"appt_office": office_id}
        lat, lon = entity_value(tracker, "latitude"), entity_value(tracker, "longitude")
        if lat and lon:
            return {"appt_office": f"geo:{lat},{lon}"}
        if is_payload(tracker):
            return {}
        text = text_of(tracker)
        person = find_name(text)
        if person:  # "Đinh Công Minh" is a person, not phường Định Công
            text = re.sub(re.escape(person), " ", text, flags=re.IGNORECASE)
            text = " ".join(w for w in text.split() if fold(w) not in {fold(x) for x in person.split()})
        place = directory.resolve_place(text, self._procedure_key(tracker))
        if tracker.get_slot("appt_office") and not place.prefixed and not asked(tracker, "appt_office"):
            return {}  # once an office is chosen, only a place written as such ("phường X") changes it
        if place.status == directory.FOUND and place.office is not None:
            return {} if place.office.id == tracker.get_slot("appt_office") else {"appt_office": place.office.id}
        if place.status == directory.CHOOSE:
            return {"appt_office": "?" + hint("choose", place.said, [o.id for o in place.candidates], old=place.old)}
        if place.status == directory.OTHER_PROVINCE:
            return {"appt_office": "?" + hint("other", place.said, province=place.province)}
        if asked(tracker, "appt_office") and not pieces(tracker) and not find_name(text_of(tracker)) \
                and latest_intent(tracker) not in ("affirm", "deny"):
            return {"appt_office": "?" + hint("unknown", text_of(tracker)[:80])}
        if asked(tracker, "appt_office") and latest_intent(tracker) == "affirm":
            return {"appt_office": "?" + hint("yes", text_of(tracker)[:40])}  # "ừ" is never an office name
        return {}

    async def validate_appt_office(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Resolve to an office that receives the procedure, or leave a hint for the next office question."""
        value = str(slot_value or "")
        key = self._procedure_key(tracker)
        misses = float(tracker.get_slot("appt_misses") or 0)
        office: Optional[Office]
        if value.startswith("geo:"):
            try:
                lat, lon = (float(x) for x in value[4:].split(","))
                office = directory.nearest_office(lat, lon, key)
            except ValueError:
                office = None
            if office is not None:
                dispatcher.utter_message(text=f"Điểm tiếp nhận gần anh/chị nhất: {texts.office_line(office)}")
        elif value.startswith("?"):
            return {"appt_office": None, HINT_SLOT: value[1:], "appt_misses": misses + 1}
        else:
            office = directory.get_office(value)
        if office is None:
            return {"appt_office": None, HINT_SLOT: hint("unknown", ""), "appt_misses": misses + 1}
        if key:
            others = directory.redirect_for(office, key)
            if others is not None:
                proc = directory.get_procedure(key)
                return {"appt_office": None,
                        HINT_SLOT: hint("redirect", f"{office.name} không tiếp nhận thủ tục "
                                                    f"{proc.name if proc else key}", [o.id for o in others[:3]])}
        out: Dict[Text, Any] = {"appt_office": office.id, "appt_confirm": None}
        if tracker.get_slot(HINT_SLOT):
            out[HINT_SLOT] = None
        if misses:
            out["appt_misses"] = 0.0
        pending = tracker.slots_to_validate()
        day, hhmm = tracker.get_slot("appt_date"), tracker.get_slot("appt_time")
        # A day or time given before the office (or for another office) is checked against this office's calendar;
        # those given in this same message are checked right after, by their own validate_ methods.
        if day and "appt_date" not in pending:
            out.update(await self.check_day(office, day, dispatcher))
            day = out.get("appt_date")
        if day and hhmm and "appt_time" not in pending and "appt_date" not in pending:
            out.update(await self.check_time(office, day, hhmm, dispatcher))
        return out

    async def extract_appt_name(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        """A name anywhere in the message (after "tên", or a capitalised full name), or the answer when asked."""
        if is_digression(tracker) or is_payload(tracker):
            return {}
        text = text_of(tracker)
        office = self.office_of(tracker)
        value = find_name(text, exclude=[office.name] if office else None) or entity_value(tracker, "person_name")
        if value is None and asked(tracker, "appt_name") and not phone_in(tracker) and not pieces(tracker) \
                and latest_intent(tracker) not in ("affirm", "deny") \
                and directory.resolve_place(text).status == directory.NOT_FOUND:
            value = text
        if value is None or clean_name(value) == tracker.get_slot("appt_name"):
            return {}
        return {"appt_name": value}

    async def validate_appt_name(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """Two to seven words of letters (Vietnamese names), title-cased."""
        name = clean_name(str(slot_value or ""))
        if name is None:
            dispatcher.utter_message(text="Anh/chị vui lòng nhập đầy đủ họ và tên người đến làm thủ tục, "
                                          "ví dụ: Nguyễn Văn An.")
            return {"appt_name": None}
        return {"appt_name": name, "appt_confirm": None}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """On the message that starts the booking, a question asked with it is answered first."""
        events: List[EventType] = []
        if tracker.get_slot("requested_slot") is None and latest_intent(tracker) == "book_appointment" \
                and not is_payload(tracker):
            from actions.appointments.combined import answer_embedded_question

            events += await answer_embedded_question(dispatcher, tracker)
        return events + await super().run(dispatcher, tracker, domain)
