"""The booking forms' questions. Each says first what the last message gave ("Dạ, tôi đã ghi nhận: ..."), and a
question that did not get its answer twice is not asked a third time the same way: it says what was not
understood and offers the options that exist (offices as buttons, a location, the ward's name, an officer)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from infra import db
from onestop.appointments import texts
from onestop.appointments import store
from knowledge import calendar
from actions.appointments.extract import CANCEL, MOVE, slot_datetime
from knowledge import offices as directory

HANDOFF_BUTTON = {"title": "Gặp cán bộ", "payload": "/human_handoff"}
_ACK_SLOTS = ("appt_office", "appt_date", "appt_time", "appt_name", "appt_phone")


def just_given(tracker: Tracker) -> Dict[str, Any]:
    """Booking slots filled by the latest message (the events after it), with their values."""
    out: Dict[str, Any] = {}
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot" and event.get("name") in _ACK_SLOTS and event.get("name") not in out:
            out[event["name"]] = event.get("value")
    return {k: v for k, v in out.items() if v not in (None, "")}


def acknowledgement(tracker: Tracker) -> str:
    """'Dạ, tôi đã ghi nhận: ngày thứ Sáu 04/12/2026, 09:00, họ tên Nguyễn Văn An. ' or ''."""
    given = just_given(tracker)
    parts: List[str] = []
    if "appt_office" in given:
        office = directory.get_office(str(given["appt_office"]))
        if office is not None:
            parts.append(f"nơi nộp {office.name}")
    if "appt_date" in given:
        try:
            parts.append("ngày " + texts.fmt_day(dt.date.fromisoformat(str(given["appt_date"]))))
        except ValueError:
            pass
    if "appt_time" in given and ":" in str(given["appt_time"]):
        parts.append(f"giờ {given['appt_time']}")
    if "appt_name" in given:
        parts.append(f"họ tên {given['appt_name']}")
    if "appt_phone" in given:
        parts.append(f"số điện thoại {given['appt_phone']}")
    return ("Dạ, tôi đã ghi nhận: " + ", ".join(parts) + ". ") if parts else ""


def times_asked(tracker: Tracker, action_name: str) -> int:
    """How many times in a row (across turns) this question was asked before now.

    The form runs its questions itself (no action event is logged for them); it sets ``requested_slot`` each time
    it asks, so consecutive settings to this slot count the earlier questions.
    """
    if just_given(tracker):
        return 0  # the last message moved the booking on: this is not a repeated question
    slot = action_name[len("action_ask_"):]
    n = 0
    for event in reversed(tracker.events):
        if event.get("event") != "slot" or event.get("name") != "requested_slot":
            continue
        if event.get("value") != slot:
            break
        n += 1
    return n  # the form shows its question before it records this turn's setting


def _hint(tracker: Tracker) -> Dict[str, Any]:
    try:
        return json.loads(tracker.get_slot("appt_office_hint") or "{}")
    except ValueError:
        return {}


def _province() -> str:
    from knowledge.admin_units import province_name
    from knowledge.directory import province_key

    return province_name(province_key())


class ActionAskApptOffice(Action):
    """Ask where; after a place that cannot be booked, say why and offer the places that can."""

    def name(self) -> Text:
        return "action_ask_appt_office"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        key = tracker.get_slot("appt_procedure")
        key = None if key in (None, "none") else key
        pool = directory.offices_for_procedure(key) if key else directory.all_offices()
        hint = _hint(tracker)
        ids = [i for i in hint.get("ids") or [] if directory.get_office(i)]
        offices = [directory.get_office(i) for i in ids]
        ack = acknowledgement(tracker)
        question = ("Anh/chị muốn đặt lịch tại phường/xã nào? Anh/chị có thể nhập tên phường/xã (tên cũ cũng được) "
                    "hoặc gửi vị trí để tôi tìm điểm gần nhất.")
        kind, said = hint.get("kind"), str(hint.get("said") or "")
        buttons = texts.office_buttons([o for o in offices if o][:5])
        if kind == "choose" and offices:
            old = " (tên trước năm 2025)" if hint.get("old") else ""
            text = (f"{said}{old} nay thuộc: " + ", ".join(o.name for o in offices if o)
                    + ". Anh/chị muốn đặt lịch tại nơi nào ạ?")
        elif kind == "other":
            text = (f"{said} thuộc {hint.get('province') or 'tỉnh/thành phố khác'}, không thuộc {_province()}. "
                    f"Tôi chỉ đặt lịch được tại các điểm tiếp nhận hồ sơ ở {_province()}. Nếu anh/chị muốn nộp hồ "
                    f"sơ tại {_province()}, anh/chị cho biết phường/xã nhé.")
        elif kind == "redirect" and offices:
            text = f"{said}. Anh/chị có thể đặt lịch tại: " + ", ".join(o.name for o in offices if o) + "."
        elif (tracker.get_slot("appt_misses") or 0) >= 2:
            typed = f" «{said}»" if said else ""
            located = [o for o in pool if o.coordinates is not None][:3] or pool[:3]
            text = (f"Xin lỗi, tôi vẫn chưa xác định được điểm tiếp nhận từ nội dung{typed}. Anh/chị có thể: chọn "
                    "một điểm bên dưới, gửi vị trí để tôi tìm điểm gần nhất, nhập tên phường/xã (ví dụ \"phường "
                    "Phú Diễn\", \"xã Bất Bạt\"), hoặc gặp cán bộ.")
            buttons = texts.office_buttons(located) + [HANDOFF_BUTTON]
        elif kind == "unknown" and said:
            text = f"Tôi chưa tìm thấy phường/xã nào tên «{said}» ở {_province()}. {question}"
        elif kind == "yes":
            text = "Anh/chị cho tôi biết tên phường/xã muốn đến nhé (tên cũ cũng được), hoặc gửi vị trí."
        else:
            text = question
            if len(pool) <= 5:
                buttons = texts.office_buttons(pool)
        dispatcher.utter_message(text=ack + text, buttons=buttons)
        return [SlotSet("appt_office_hint", None)]


class ActionAskApptDate(Action):
    """Ask the day, offering the next open days."""

    def name(self) -> Text:
        return "action_ask_appt_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        office = directory.get_office(tracker.get_slot("appt_office") or tracker.get_slot("manage_office") or "")
        ack = acknowledgement(tracker)
        again = times_asked(tracker, self.name()) >= 2
        if office is None:
            dispatcher.utter_message(text=ack + "Anh/chị muốn đến vào ngày nào?")
            return []
        days = await db.run_sync(calendar.next_bookable_days, office, calendar.now_local().date(), 4)
        if again:
            dispatcher.utter_message(
                text=ack + "Tôi chưa nhận ra ngày anh/chị muốn đến. Anh/chị chọn một ngày bên dưới, nhập ngày dạng "
                           "27/11 hoặc \"thứ Năm tuần sau\", hoặc nhắn \"gặp cán bộ\".",
                buttons=texts.day_buttons(days) + [HANDOFF_BUTTON])
            return []
        dispatcher.utter_message(
            text=ack + f"Anh/chị muốn đến {office.name} vào ngày nào? (ví dụ: 27/11, \"thứ Năm tuần sau\")",
            buttons=texts.day_buttons(days))
        return []


class ActionAskApptTime(Action):
    """Ask the time, showing only slots with free places."""

    def name(self) -> Text:
        return "action_ask_appt_time"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        office = directory.get_office(tracker.get_slot("appt_office") or tracker.get_slot("manage_office") or "")
        day = tracker.get_slot("appt_date")
        ack = acknowledgement(tracker)
        if office is None or not day:
            dispatcher.utter_message(text=ack + "Anh/chị muốn đến lúc mấy giờ?")
            return []
        free = await db.run_sync(store.free_slots, office, dt.date.fromisoformat(day))
        again = "Tôi chưa nhận ra giờ anh/chị chọn. " if times_asked(tracker, self.name()) >= 2 else ""
        dispatcher.utter_message(
            text=ack + again + f"{texts.cap(texts.fmt_day(dt.date.fromisoformat(day)))} tại {office.name} còn trống "
                               f"các khung giờ: {texts.list_times(free)}. Anh/chị chọn giờ nào ạ?",
            buttons=texts.time_buttons(free) + ([HANDOFF_BUTTON] if again else []))
        return []


class ActionAskApptName(Action):
    """Ask the full name of the person who comes."""

    def name(self) -> Text:
        return "action_ask_appt_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        ack = acknowledgement(tracker)
        if times_asked(tracker, self.name()) >= 2:
            dispatcher.utter_message(text=ack + "Tôi chưa nhận ra họ tên. Anh/chị nhập đầy đủ họ tên người đến "
                                                "làm thủ tục (ví dụ: Nguyễn Văn An), hoặc nhắn \"thôi\" để dừng.",
                                     buttons=[HANDOFF_BUTTON])
            return []
        dispatcher.utter_message(text=ack + "Anh/chị vui lòng cho biết họ tên người đến làm thủ tục.")
        return []


class ActionAskApptPhone(Action):
    """Ask the phone: a contact number when booking, the number used at booking when cancelling or moving."""

    def name(self) -> Text:
        return "action_ask_appt_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        ack = acknowledgement(tracker) if tracker.active_loop_name != "manage_booking_form" else ""
        again = times_asked(tracker, self.name()) >= 2
        if tracker.active_loop_name == "manage_booking_form":
            text = "Để bảo vệ lịch hẹn, anh/chị vui lòng nhập số điện thoại đã dùng khi đặt lịch này."
        else:
            text = "Anh/chị vui lòng nhập số điện thoại liên hệ (dùng để hủy hoặc đổi lịch sau này)."
        if again:
            text = "Tôi chưa nhận ra số điện thoại. " + text + " Số di động gồm 10 chữ số, ví dụ 0912345678."
        dispatcher.utter_message(text=ack + text, buttons=[HANDOFF_BUTTON] if again else [])
        return []


class ActionAskApptConfirm(Action):
    """Show the summary to confirm (booking or manage form)."""

    def name(self) -> Text:
        return "action_ask_appt_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        buttons = [{"title": "Xác nhận", "payload": "/affirm"}, {"title": "Không, dừng lại", "payload": "/deny"}]
        if tracker.active_loop_name == "manage_booking_form":
            booking = await db.run_sync(store.find_booking, tracker.get_slot("booking_code") or "",
                                        tracker.get_slot("appt_phone") or "")
            if booking is None:
                dispatcher.utter_message(text="Tôi không tìm thấy lịch hẹn còn hiệu lực với mã này.")
                return []
            office = directory.get_office(booking.office_id)
            place = office.name if office else booking.office_id
            if tracker.get_slot("manage_action") == MOVE:
                new = slot_datetime(tracker.get_slot("appt_date"), tracker.get_slot("appt_time"))
                text = (f"Đổi lịch hẹn {booking.code} tại {place} từ {texts.fmt_slot(booking.slot_start)} "
                        f"sang {texts.fmt_slot(new)}. Anh/chị xác nhận chứ ạ?")
            else:
                text = (f"Lịch hẹn sẽ bị hủy: {booking.code}, {texts.fmt_slot(booking.slot_start)} tại {place}"
                        f" (người đến: {booking.full_name}). Anh/chị xác nhận hủy chứ ạ?")
            dispatcher.utter_message(text=text, buttons=buttons)
            return []
        office = directory.get_office(tracker.get_slot("appt_office") or "")
        day, hhmm = tracker.get_slot("appt_date"), tracker.get_slot("appt_time")
        if office is None or not day or not hhmm:
            return []
        key = tracker.get_slot("appt_procedure")
        proc = directory.get_procedure(key) if key and key != "none" else None
        dispatcher.utter_message(text=texts.booking_confirm_question(
            office, slot_datetime(day, hhmm), tracker.get_slot("appt_name") or "",
            tracker.get_slot("appt_phone") or "", proc), buttons=buttons)
        return []


class ActionAskManageAction(Action):
    """Ask whether to cancel or move the booking just verified."""

    def name(self) -> Text:
        return "action_ask_manage_action"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        code = tracker.get_slot("booking_code") or ""
        dispatcher.utter_message(
            text=f"Anh/chị muốn hủy hay đổi lịch hẹn {code}?",
            buttons=[{"title": "Đổi ngày giờ", "payload": texts.payload("inform", manage_action=MOVE)},
                     {"title": "Hủy lịch", "payload": texts.payload("inform", manage_action=CANCEL)}])
        return []


def booking_office_name(office_id: Optional[str]) -> str:
    """The office's name for a text, or its id when unknown."""
    office = directory.get_office(office_id or "")
    return office.name if office else (office_id or "")
