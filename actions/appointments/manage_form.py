"""The manage form: cancel or move a booking by its code and the phone it was made with.

The chat that made the booking is its own proof (no phone asked there, and "hủy lịch đó" finds it without a code);
from anywhere else the code alone reveals nothing and a wrong phone gets the same answer as a wrong code.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from infra import db
from onestop.appointments import lookup
from onestop.appointments import store
from actions.appointments.extract import CANCEL, MOVE, detect_manage_action, entity_value, is_payload, latest_intent
from actions.appointments.extract import folded, text_of
from actions.appointments.validation import AppointmentFormBase, asked, is_digression, phone_in
from knowledge import offices as directory
from knowledge.schema import Office
from vntext.patterns import normalize_booking_code

MAX_PROOF_ATTEMPTS = 3


class ValidateManageBookingForm(AppointmentFormBase):
    """Booking code and the phone it was made with (a code alone reveals nothing), cancel or move, confirmation."""

    def name(self) -> Text:
        return "validate_manage_booking_form"

    def office_of(self, tracker: Tracker) -> Optional[Office]:
        office_id = tracker.get_slot("manage_office")
        return directory.get_office(office_id) if office_id else None

    def wants_date_time(self, tracker: Tracker) -> bool:
        return self._action(tracker) == MOVE

    def _action(self, tracker: Tracker) -> Optional[str]:
        return tracker.get_slot("manage_action") or entity_value(tracker, "manage_action") or (
            detect_manage_action(text_of(tracker)) if latest_intent(tracker) == "cancel_appointment" else None)

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        """The new date and time only for a move; nothing more after too many wrong proofs."""
        if (tracker.get_slot("manage_attempts") or 0) >= MAX_PROOF_ATTEMPTS:
            return []
        slots = ["booking_code", "appt_phone", "manage_action"]
        if self._action(tracker) == MOVE:
            slots += ["appt_date", "appt_time"]
        return slots + ["appt_confirm"]

    async def extract_booking_code(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """A code from the message, the one booking of this chat, or the raw answer when a code was asked."""
        if is_digression(tracker):
            return {}
        value = entity_value(tracker, "booking_code")
        if value is None and not tracker.get_slot("booking_code"):
            own = await db.run_sync(lookup.of_sender, tracker.sender_id)
            if len(own) == 1:
                value = own[0].code  # "hủy lịch đó giúp mình": the only upcoming booking made in this chat
        if value is None and asked(tracker, "booking_code") and not is_payload(tracker) and not phone_in(tracker):
            value = text_of(tracker)
        if value is None or value == tracker.get_slot("booking_code"):
            return {}
        return {"booking_code": value}

    async def validate_booking_code(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """The LH-XXXXXX format; a booking of this same chat needs no further proof."""
        code = normalize_booking_code(str(slot_value or ""))
        if code is None:
            dispatcher.utter_message(text="Mã lịch hẹn có dạng LH-XXXXXX (6 chữ hoặc số), được gửi khi đặt lịch. "
                                          "Anh/chị vui lòng kiểm tra lại, hoặc nhắn \"thôi\" để dừng.")
            return {"booking_code": None}
        booking = await db.run_sync(store.get_booking, code)
        if booking is not None and booking.sender_id == tracker.sender_id:
            if booking.status != store.BOOKED:
                dispatcher.utter_message(text=f"Lịch hẹn {code} đã được hủy trước đó, không còn hiệu lực. Anh/chị "
                                              "có thể đặt lịch mới bất cứ lúc nào.")
                return {"booking_code": None, "manage_attempts": float(MAX_PROOF_ATTEMPTS)}
            # The chat that booked proves ownership: the phone is the booking's own.
            return {"booking_code": code, "appt_phone": booking.phone, "manage_office": booking.office_id}
        return {"booking_code": code, "manage_office": None}  # a new code must be proved again

    async def validate_appt_phone(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        """The phone must be the one the booking was made with; wrong code or phone get the same answer."""
        code = tracker.get_slot("booking_code")
        if code and tracker.get_slot("manage_office") and "booking_code" in tracker.slots_to_validate():
            return {}  # set with the code by this chat's own booking
        out = await super().validate_appt_phone(slot_value, dispatcher, tracker, domain)
        if out.get("appt_phone") is None or not code:
            return out
        booking = await db.run_sync(store.find_booking, code, out["appt_phone"])
        if booking is None:
            attempts = (tracker.get_slot("manage_attempts") or 0) + 1
            if attempts >= MAX_PROOF_ATTEMPTS:
                dispatcher.utter_message(text="Mã lịch hẹn và số điện thoại không khớp quá nhiều lần. Anh/chị vui "
                                              "lòng liên hệ bộ phận một cửa, hoặc nhắn \"gặp cán bộ\".")
            else:
                dispatcher.utter_message(text="Mã lịch hẹn và số điện thoại không khớp với lịch hẹn nào đang còn "
                                              "hiệu lực. Anh/chị kiểm tra lại số điện thoại đã dùng khi đặt lịch "
                                              "(hoặc gửi lại mã lịch hẹn).")
            return {"appt_phone": None, "manage_attempts": float(attempts)}
        out = {"appt_phone": booking.phone, "manage_office": booking.office_id}
        office = directory.get_office(booking.office_id)
        day, hhmm = tracker.get_slot("appt_date"), tracker.get_slot("appt_time")
        if office is not None and day and self._action(tracker) == MOVE:
            # A new day given with the code is checked against the booking's office now that it is known.
            out.update(await self.check_day(office, day, dispatcher))
            if out.get("appt_date") and hhmm:
                out.update(await self.check_time(office, out["appt_date"], hhmm, dispatcher))
        return out

    async def extract_appt_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """A yes to the summary; "đúng, hủy giúp tôi" confirms a cancellation too."""
        out = await super().extract_appt_confirm(dispatcher, tracker, domain)
        if out or not asked(tracker, "appt_confirm"):
            return out
        words = folded(text_of(tracker)).split()
        wanted = tracker.get_slot("manage_action")
        if "khong" not in words and wanted and detect_manage_action(text_of(tracker)) == wanted:
            return {"appt_confirm": True}
        return {}

    async def extract_manage_action(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """Cancel or move, from a button or the words used."""
        if is_digression(tracker) or tracker.get_slot("manage_action"):
            return {}
        action = entity_value(tracker, "manage_action") or detect_manage_action(text_of(tracker))
        return {"manage_action": action} if action in (CANCEL, MOVE) else {}

    async def validate_manage_action(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        """Keep cancel or move."""
        return {"manage_action": slot_value if slot_value in (CANCEL, MOVE) else None}
