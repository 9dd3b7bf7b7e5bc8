"""Appointments as conversations: book, cancel or move a visit to a one-stop office, and the day-before reminder.

The Rasa-facing actions are thin: what a message gives is read by actions.appointments.extract, the forms live in
actions.appointments.booking_form / manage_form over a shared validation base (actions.appointments.validation),
their questions in actions.appointments.asks, the wording in onestop.appointments.texts. Capacity lives in the
database (onestop.appointments.store); the dialogue only shows what the store says.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from infra import db
from onestop.appointments import lookup
from onestop.appointments import texts
from onestop.appointments import store
from knowledge import calendar
from actions.appointments.asks import (ActionAskApptConfirm, ActionAskApptDate, ActionAskApptName,  # noqa: F401
                                       ActionAskApptOffice, ActionAskApptPhone, ActionAskApptTime,
                                       ActionAskManageAction)
from actions.appointments.booking_form import ValidateBookingForm  # noqa: F401
from actions.appointments.extract import (CANCEL, MOVE, clean_name, detect_manage_action, entity_value, folded,  # noqa: F401,E501
                                          find_name, parse_time, same_week_correction, slot_datetime, text_of)
from actions.appointments.manage_form import MAX_PROOF_ATTEMPTS, ValidateManageBookingForm  # noqa: F401
from actions.appointments.validation import AppointmentFormBase, phone_in, touch  # noqa: F401
from actions.feedback import ask_after
from actions.notify_consent import ask_after_booking
from knowledge.offices import get_office, get_procedure, nearest_office
from knowledge.schema import Office, Procedure

log = logging.getLogger(__name__)

BOOKING_SLOTS = ("appt_office", "appt_procedure", "appt_date", "appt_time", "appt_name", "appt_phone",
                 "appt_confirm", "appt_office_hint", "appt_misses")
MANAGE_SLOTS = ("booking_code", "appt_phone", "manage_action", "manage_office", "appt_date", "appt_time",
                "appt_confirm")


def idempotency_key(sender_id: str, office_id: str, slot: dt.datetime, phone: str) -> str:
    """The same person confirming the same place and time twice books once."""
    raw = f"{sender_id}|{office_id}|{calendar.to_local(slot).isoformat()}|{phone}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def _channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


def _booking_slots(tracker: Tracker) -> Tuple[Any, Any, Any]:
    office = get_office(tracker.get_slot("appt_office") or "")
    day, hhmm = tracker.get_slot("appt_date"), tracker.get_slot("appt_time")
    slot = slot_datetime(day, hhmm) if day and hhmm else None
    key = tracker.get_slot("appt_procedure")
    return office, slot, get_procedure(key) if key and key != "none" else None


def _reset(names: Tuple[str, ...]) -> List[EventType]:
    return [SlotSet(n, None) for n in names]


class ActionBookAppointment(Action):
    """Book the confirmed slot; the database decides whether a place is left."""

    def name(self) -> Text:
        return "action_book_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        office, slot, proc = _booking_slots(tracker)
        if office is None or slot is None or not tracker.get_slot("appt_confirm"):
            last = tracker.get_slot("last_booking_code")
            if last:  # a second "yes" after the booking was made: nothing new is booked
                dispatcher.utter_message(text=f"Lịch hẹn {last} của anh/chị đã được ghi nhận rồi ạ.")
            else:
                dispatcher.utter_message(text="Anh/chị muốn đặt lịch? Hãy nhắn \"đặt lịch\" để bắt đầu.")
            return []
        phone, name = tracker.get_slot("appt_phone") or "", tracker.get_slot("appt_name") or ""
        try:
            result = await db.run_sync(
                lambda: store.book(office, slot, name, phone, channel=_channel(tracker),
                                   sender_id=tracker.sender_id, procedure_key=proc.key if proc else None,
                                   idempotency_key=idempotency_key(tracker.sender_id, office.id, slot, phone)))
        except Exception:
            log.exception("booking failed")
            dispatcher.utter_message(text="Xin lỗi, hệ thống đặt lịch đang gặp sự cố nên lịch hẹn CHƯA được ghi "
                                          "nhận. Anh/chị vui lòng thử lại sau ít phút.")
            return [SlotSet("appt_confirm", None)]
        if result.ok and result.booking is not None:
            dispatcher.utter_message(text=texts.booking_done(result.booking.code, office, result.booking.slot_start,
                                                             proc, repeated=result.duplicate))
            events = _reset(BOOKING_SLOTS) + [SlotSet("last_booking_code", result.booking.code)]
            # On Zalo a new booking first asks whether reminders may come by ZNS; elsewhere, was it convenient?
            if not result.duplicate and not await ask_after_booking(tracker, dispatcher, result.booking.phone):
                events += ask_after(tracker, dispatcher, "booking", proc.key if proc else None)
            return events
        # Full or no longer valid: keep office, name and phone; one tap on another slot restarts the form.
        head = ("Rất tiếc, khung giờ này vừa hết chỗ." if result.status == store.SLOT_FULL
                else "Rất tiếc, khung giờ này không còn đặt được.")
        extra = {"procedure_key": proc.key} if proc else {}
        if result.alternatives:
            dispatcher.utter_message(
                text=f"{head} Các giờ gần nhất còn trống tại {office.name}: "
                     + ", ".join(texts.fmt_slot(s) for s, _ in result.alternatives) + ". Anh/chị chọn giờ khác nhé.",
                buttons=texts.alternative_buttons(result.alternatives, "book_appointment", **extra))
        else:
            dispatcher.utter_message(text=f"{head} {office.name} hiện không còn chỗ trong những ngày tới.")
        return [SlotSet("appt_date", None), SlotSet("appt_time", None), SlotSet("appt_confirm", None)]


class ActionManageBooking(Action):
    """Cancel or move the verified booking."""

    def name(self) -> Text:
        return "action_manage_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        code, phone = tracker.get_slot("booking_code"), tracker.get_slot("appt_phone")
        action = tracker.get_slot("manage_action")
        if (tracker.get_slot("manage_attempts") or 0) >= MAX_PROOF_ATTEMPTS or not code or not phone \
                or not tracker.get_slot("appt_confirm"):
            return _reset(MANAGE_SLOTS) + [SlotSet("manage_attempts", None)]
        try:
            if action == MOVE:
                new = slot_datetime(tracker.get_slot("appt_date"), tracker.get_slot("appt_time"))
                result = await db.run_sync(store.move, code, phone, new)
            else:
                result = await db.run_sync(store.cancel, code, phone)
        except Exception:
            log.exception("managing booking failed")
            dispatcher.utter_message(text="Xin lỗi, hệ thống đặt lịch đang gặp sự cố nên yêu cầu CHƯA được thực "
                                          "hiện. Anh/chị vui lòng thử lại sau ít phút.")
            return [SlotSet("appt_confirm", None)]
        if result.ok and result.booking is not None:
            office = get_office(result.booking.office_id)
            if action == MOVE:
                proc = get_procedure(result.booking.procedure_key or "")
                assert office is not None
                dispatcher.utter_message(text="Đã đổi lịch. " + texts.booking_done(
                    result.booking.code, office, result.booking.slot_start, proc).split("\n", 1)[1])
            else:
                dispatcher.utter_message(text=f"Đã hủy lịch hẹn {result.booking.code}. Khi cần, anh/chị có thể "
                                              "đặt lịch mới bất cứ lúc nào.")
            return _reset(MANAGE_SLOTS) + [SlotSet("manage_attempts", None)]
        if result.status in (store.SLOT_FULL, store.INVALID_SLOT) and action == MOVE:
            buttons = texts.alternative_buttons(result.alternatives, "cancel_appointment", manage_action=MOVE,
                                                booking_code=code)
            dispatcher.utter_message(
                text="Rất tiếc, khung giờ mới vừa hết chỗ. Lịch cũ của anh/chị vẫn giữ nguyên."
                     + (" Các giờ còn trống: " + ", ".join(texts.fmt_slot(s) for s, _ in result.alternatives) + "."
                        if result.alternatives else ""), buttons=buttons)
            return [SlotSet("appt_date", None), SlotSet("appt_time", None), SlotSet("appt_confirm", None)]
        dispatcher.utter_message(text="Lịch hẹn này không còn hiệu lực (có thể đã được hủy trước đó).")
        return _reset(MANAGE_SLOTS) + [SlotSet("manage_attempts", None)]


class ActionBookingStopped(Action):
    """The citizen stopped a booking form: say nothing was booked or changed, and clear the form."""

    def name(self) -> Text:
        return "action_booking_stopped"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(text="Dạ, tôi đã dừng lại, chưa có lịch hẹn nào được đặt hay thay đổi. "
                                      "Anh/chị cần gì khác cứ nhắn cho tôi nhé.")
        return _reset(tuple(dict.fromkeys(BOOKING_SLOTS + MANAGE_SLOTS))) + [SlotSet("manage_attempts", None)]


class ActionNearestOffice(Action):
    """A shared location outside a booking: the nearest one-stop office, with a button to book there."""

    def name(self) -> Text:
        return "action_nearest_office"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        try:
            lat = float(entity_value(tracker, "latitude") or "")
            lon = float(entity_value(tracker, "longitude") or "")
        except ValueError:
            dispatcher.utter_message(text="Tôi chưa đọc được vị trí anh/chị gửi. Anh/chị có thể nhập tên phường/xã.")
            return []
        office = nearest_office(lat, lon)
        if office is None:
            dispatcher.utter_message(text="Xin lỗi, hiện chưa có dữ liệu vị trí các điểm tiếp nhận hồ sơ.")
            return []
        dispatcher.utter_message(
            text=f"Điểm tiếp nhận gần anh/chị nhất: {texts.office_line(office)}",
            buttons=[{"title": "Đặt lịch tại đây", "payload": texts.payload("book_appointment", office_id=office.id)}])
        return []


class ActionAppointmentReminder(Action):
    """The day-before reminder, triggered by the reminder job through Rasa's trigger_intent."""

    def name(self) -> Text:
        return "action_appointment_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        code = entity_value(tracker, "booking_code") or ""
        booking = await db.run_sync(store.get_booking, code)
        if booking is None or booking.status != store.BOOKED or booking.sender_id != tracker.sender_id:
            return []
        office = get_office(booking.office_id)
        if office is None:
            return []
        text = texts.reminder_text(booking.code, office, booking.slot_start, get_procedure(booking.procedure_key or ""))
        # A neutral marker: each output channel knows how its platform sends an update about a confirmed event.
        dispatcher.utter_message(json_message={"notification": "confirmed_event_update", "text": text})
        return []


class ActionFindBookings(Action):
    """A booking without its code: those made from this chat are listed; elsewhere phone AND booked name."""

    def name(self) -> Text:
        return "action_find_bookings"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        from actions.conversation import private_details_asked

        if private_details_asked(tracker) and "lich" not in folded(text_of(tracker)).split():
            return [FollowupAction("dossier_proof_form")]  # "tên, số điện thoại người nộp" after a dossier lookup
        own = await db.run_sync(lookup.of_sender, tracker.sender_id)
        if own:
            lines = [texts.booking_line(b.code, get_office(b.office_id), b.slot_start) for b in own[:5]]
            dispatcher.utter_message(text="Lịch hẹn anh/chị đã đặt trong cuộc trò chuyện này:\n" + "\n".join(lines)
                                          + "\nMuốn hủy hoặc đổi, anh/chị nhắn \"hủy lịch\" hoặc \"đổi lịch\" kèm mã.")
            return []
        phone, name = phone_in(tracker), find_name(text_of(tracker))
        if phone and name:
            found = await db.run_sync(lookup.by_phone_and_name, phone, name)
            if found:
                lines = [texts.booking_line(b.code, get_office(b.office_id), b.slot_start) for b in found[:5]]
                dispatcher.utter_message(text="Lịch hẹn khớp với số điện thoại và họ tên anh/chị cung cấp:\n"
                                              + "\n".join(lines))
                return []
        dispatcher.utter_message(
            text="Để bảo vệ lịch hẹn, tôi không tra mã lịch hẹn chỉ bằng số điện thoại. Mã lịch hẹn được gửi trong "
                 "cuộc trò chuyện đã dùng để đặt lịch: anh/chị mở lại cuộc trò chuyện đó và nhắn \"xem lịch hẹn\". "
                 "Hoặc anh/chị gửi cùng lúc số điện thoại và họ tên người đã đặt lịch để tôi xác minh, hay liên hệ "
                 "bộ phận một cửa nơi đã đặt lịch (mang giấy tờ tùy thân).",
            buttons=[{"title": "Gặp cán bộ", "payload": "/human_handoff"}])
        return []
