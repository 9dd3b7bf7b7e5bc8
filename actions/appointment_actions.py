"""Appointments as conversations: book, cancel or move a visit to a one-stop office, and the day-before reminder.

Two forms share one validation base (dates, time slots, phone, confirmation):
- booking_form: office, date, time, full name, phone, confirmation; the procedure is optional context.
- manage_booking_form: booking code, the phone it was made with, cancel or move (and the new date and time),
  confirmation.
Slots are filled only by the ``extract_*`` methods here, so a correction ("à nhầm, thứ 5 chứ") is taken whichever
slot is being asked, and a digression (a procedure question) extracts nothing, which lets the form reject the
turn and the rules answer it before the form resumes. Capacity lives in the database (actions.appointments.store);
the dialogue only shows what the store says.
"""
from __future__ import annotations

import abc
import datetime as dt
import hashlib
import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import db
from actions.appointments import calendar, store, texts
from actions.appointments.offices import (all_offices, find_office, get_office, get_procedure, nearest_office,
                                          offices_for_procedure, redirect_for)
from knowledge.schema import Office, Procedure
from nlu.patterns import normalize_booking_code, normalize_phone
from nlu.textnorm import canonical_words

log = logging.getLogger(__name__)

BOOKING_SLOTS = ("appt_office", "appt_procedure", "appt_date", "appt_time", "appt_name", "appt_phone",
                 "appt_confirm")
MANAGE_SLOTS = ("booking_code", "appt_phone", "manage_action", "manage_office", "appt_date", "appt_time",
                "appt_confirm")
# Intents that never fill a form slot: the form rejects the turn and the rules answer them, then resume.
DIGRESSIONS = frozenset({"ask_procedure", "ask_office", "check_dossier", "dossier_details", "human_handoff",
                         "greet", "thank", "goodbye", "bot_challenge", "out_of_scope", "deny"})
MAX_PROOF_ATTEMPTS = 3
CANCEL, MOVE = "cancel", "move"
_CANCEL_RE = re.compile(r"\b(huy|khong den|khong di|bo lich|thoi khong)\b")
_NAME_PREFIX_RE = re.compile(r"^(?:(?:ho va )?ten (?:cua )?(?:toi|em|minh|tui|chau|con)? ?(?:la|:)?|"
                             r"(?:toi|em|minh|tui|chau|con) (?:ten )?la|toi ten|em ten|minh ten|ten)\s*",
                             re.IGNORECASE)
_NAME_CHARS_RE = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")


def _latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def _text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def _entities(tracker: Tracker, name: str) -> List[Dict[str, Any]]:
    return [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name]


def _entity_value(tracker: Tracker, name: str) -> Optional[str]:
    found = _entities(tracker, name)
    value = found[0].get("value") if found else None
    return str(value) if value not in (None, "") else None


def _asked(tracker: Tracker, slot: str) -> bool:
    return tracker.get_slot("requested_slot") == slot


def _is_digression(tracker: Tracker) -> bool:
    intent = _latest_intent(tracker)
    if intent == "ask_office" and len(_text(tracker).split()) <= 4 and \
            (_datetimes(tracker, "date") or _datetimes(tracker, "time")):
        return False  # "chủ nhật" or "thứ 7 được không" answers the date question rather than asking office hours
    return intent in DIGRESSIONS


def _folded(text: str) -> str:
    return " ".join(canonical_words(text))


def _payload_message(tracker: Tracker) -> bool:
    return _text(tracker).startswith("/")


def _datetimes(tracker: Tracker, kind: str) -> List[Any]:
    """Dates or times written in the latest message (resolved now, in Vietnam time)."""
    from nlu.datetime_vi import find_datetimes

    if _payload_message(tracker):
        return []
    return [e for e in find_datetimes(_text(tracker), calendar.now_local()) if e.entity == kind]


_BARE_WEEKDAY_RE = re.compile(r"^(?:(?:vao|ngay|hom) )?(?:thu (?:hai|ba|tu|nam|sau|bay|[2-7])|chu nhat|t[2-7]|cn)$")


def same_week_correction(typed: str, value: str, previous: Optional[str]) -> str:
    """'à nhầm, thứ 6 chứ' after 'thứ 5 tuần sau' means Friday of that same week, not of this one."""
    if not previous or not _BARE_WEEKDAY_RE.match(_folded(typed)):
        return value
    try:
        new, old = dt.date.fromisoformat(value), dt.date.fromisoformat(previous)
    except ValueError:
        return value
    moved = old - dt.timedelta(days=old.weekday()) + dt.timedelta(days=new.weekday())
    return moved.isoformat() if moved >= calendar.now_local().date() else value


def slot_datetime(day: str, hhmm: str) -> dt.datetime:
    """The local datetime of ``day`` (ISO) at ``hhmm``."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=calendar.tz())


def parse_time(value: str, text: str = "") -> Optional[str]:
    """'HH:MM' from an entity value; an afternoon is meant by '2h' at an office ('2h' -> 14:00)."""
    m = re.match(r"^\s*(\d{1,2}):(\d{2})", value or "")
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    folded = _folded(text)
    if 1 <= hour <= 5 and not re.search(r"\b(sang|dem|khuya)\b", folded):
        hour += 12  # offices are closed at 2 a.m.: a bare "2h" or "2 giờ" means 14:00
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def clean_name(text: str) -> Optional[str]:
    """A person's full name from a typed answer ('tên tôi là nguyễn văn an' -> 'Nguyễn Văn An'), or None."""
    raw = " ".join((text or "").split()).strip(" .,!;:")
    if not raw:
        return None
    words = raw.split()
    folded = canonical_words(raw)
    prefix = _NAME_PREFIX_RE.match(" ".join(folded))
    if prefix:
        drop = len(prefix.group(0).split())
        words = words[drop:]
    name = " ".join(words).strip(" .,!;:")
    if not (2 <= len(name.split()) <= 7) or len(name) > 60 or not _NAME_CHARS_RE.match(name):
        return None
    return " ".join(w[:1].upper() + w[1:].lower() for w in name.split())


def detect_manage_action(text: str) -> Optional[str]:
    """'move' for 'đổi/dời/chuyển lịch', 'cancel' for 'hủy lịch', else None."""
    folded = _folded(text)
    if re.search(r"\b(doi|chuyen|lui|hoan|dich)\b", folded) or "sang ngay" in folded:
        return MOVE
    if _CANCEL_RE.search(folded):
        return CANCEL
    return None


def idempotency_key(sender_id: str, office_id: str, slot: dt.datetime, phone: str) -> str:
    """The same person confirming the same place and time twice books once."""
    raw = f"{sender_id}|{office_id}|{calendar.to_local(slot).isoformat()}|{phone}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


async def touch(tracker: Tracker) -> None:
    """Record that the citizen wrote (the messaging window for reminders); never breaks the turn."""
    try:
        await db.run_sync(store.touch_user, tracker.sender_id)
    except Exception:
        log.exception("could not record the user's last message time")


def _channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


class AppointmentFormBase(FormValidationAction, abc.ABC):
    """Date, time, phone and confirmation, shared by the booking and the manage forms."""

    @abc.abstractmethod
    def office_of(self, tracker: Tracker) -> Optional[Office]:
        """The office whose calendar the date and time are checked against."""

    def wants_date_time(self, tracker: Tracker) -> bool:
        """Whether this form is collecting a date and time right now."""
        return True

    # --- extraction -------------------------------------------------------------------------------------------
    async def extract_appt_date(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        """A date written anywhere in the message (a correction too), or the raw answer when a date was asked."""
        if _is_digression(tracker) or not self.wants_date_time(tracker):
            return {}
        value = _entity_value(tracker, "date") if _payload_message(tracker) else None
        if value is None:
            dates = _datetimes(tracker, "date")
            if dates:
                value = dates[0].value if dates[0].value and not dates[0].invalid else dates[0].text
                value = same_week_correction(dates[0].text, value, tracker.get_slot("appt_date"))
            elif _asked(tracker, "appt_date") and not _payload_message(tracker) and not _datetimes(tracker, "time"):
                value = _text(tracker)  # validation explains why it is not a date
        if value is None:
            return {}
        out: Dict[Text, Any] = {"appt_date": value}
        if tracker.get_slot("appt_date") not in (None, value) and not self._time_in_message(tracker):
            out["appt_time"] = None  # another day: the time must be chosen again among that day's free slots
        return out

    def _time_in_message(self, tracker: Tracker) -> bool:
        return bool(_entity_value(tracker, "time") if _payload_message(tracker) else _datetimes(tracker, "time"))

    async def extract_appt_time(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        """A time from a button or the message."""
        if _is_digression(tracker) or not self.wants_date_time(tracker):
            return {}
        if _payload_message(tracker):
            value = _entity_value(tracker, "time")
            return {"appt_time": value} if value else {}
        times = _datetimes(tracker, "time")
        if times and times[0].value:
            return {"appt_time": parse_time(times[0].value, _text(tracker)) or times[0].text}
        if _asked(tracker, "appt_time") and not _datetimes(tracker, "date"):
            return {"appt_time": _text(tracker)}
        return {}

    async def extract_appt_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """A phone number from the message, or the raw answer when it was asked."""
        if _is_digression(tracker):
            return {}
        value = _entity_value(tracker, "phone")
        if value is None and _asked(tracker, "appt_phone") and not _payload_message(tracker):
            value = _text(tracker)
        return {"appt_phone": value} if value else {}

    async def extract_appt_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Only a 'yes' to the summary confirms; 'no' stops the form through the rules."""
        if _asked(tracker, "appt_confirm") and _latest_intent(tracker) == "affirm":
            return {"appt_confirm": True}
        return {}

    # --- validation -------------------------------------------------------------------------------------------
    async def validate_appt_date(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """Refuse past days, weekends, holidays, impossible dates and full days, offering the next open ones."""
        if slot_value is None:
            return {"appt_date": None}
        office = self.office_of(tracker)
        if office is None:
            return {"appt_date": slot_value}  # checked once the office is known (validate_appt_office)
        out = await self.check_day(office, slot_value, dispatcher)
        hhmm = tracker.get_slot("appt_time")
        if out.get("appt_date") and hhmm and "appt_time" not in tracker.slots_to_validate():
            out.update(await self.check_time(office, out["appt_date"], hhmm, dispatcher))  # kept from before
        return out

    async def check_day(self, office: Office, slot_value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        """The date check of validate_appt_date against a given office."""
        check = await db.run_sync(calendar.check_date, office, str(slot_value))
        if not check.ok:
            dispatcher.utter_message(text=texts.date_refusal(check, office))
            return {"appt_date": None, "appt_time": None, "appt_confirm": None}
        assert check.day is not None
        free = await db.run_sync(store.free_slots, office, check.day)
        if not free:
            alternatives = await db.run_sync(store.next_free_slots, office,
                                             dt.datetime.combine(check.day, dt.time(23, 59), tzinfo=calendar.tz()))
            days = sorted({calendar.to_local(s).date() for s, _ in alternatives})
            dispatcher.utter_message(
                text=f"{texts.cap(texts.fmt_day(check.day))} đã kín lịch hẹn tại {office.name}."
                     + (f" Ngày gần nhất còn chỗ: {texts.fmt_day(days[0])}." if days else ""))
            return {"appt_date": None, "appt_time": None, "appt_confirm": None}
        return {"appt_date": check.day.isoformat(), "appt_confirm": None}

    async def validate_appt_time(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """Only a slot of the chosen day with a free place; otherwise the free ones are offered."""
        if slot_value is None:
            return {"appt_time": None}
        office, day = self.office_of(tracker), tracker.get_slot("appt_date")
        if office is None or not day:
            return {"appt_time": slot_value}  # checked once office and day are known
        return await self.check_time(office, day, slot_value, dispatcher, _text(tracker))

    async def check_time(self, office: Office, day: str, slot_value: Any, dispatcher: CollectingDispatcher,
                         text: str = "") -> Dict[Text, Any]:
        """The time check of validate_appt_time against a given office and (validated) day."""
        hhmm = parse_time(str(slot_value), text) if ":" in str(slot_value) else None
        free = await db.run_sync(store.free_slots, office, dt.date.fromisoformat(day))
        if hhmm is None:
            dispatcher.utter_message(text="Tôi chưa nhận ra giờ anh/chị chọn.")
            return {"appt_time": None}
        wanted = slot_datetime(day, hhmm)
        if any(s == wanted for s, _ in free):
            return {"appt_time": hhmm, "appt_confirm": None}
        if wanted not in calendar.day_slots(office, wanted.date()):
            why = ("Giờ này là giờ nghỉ trưa." if dt.time(11, 30) <= wanted.time() < dt.time(13, 30)
                   else "Giờ này ngoài giờ tiếp nhận hoặc không đúng khung giờ hẹn "
                        f"(mỗi khung {office.slot_minutes} phút).")
        else:
            why = f"Khung {hhmm} {texts.fmt_day(wanted.date())} đã kín hoặc đã qua."
        if free:
            dispatcher.utter_message(text=why)  # the question that follows lists the free times
        else:
            dispatcher.utter_message(text=f"{why} Ngày này đã hết chỗ, anh/chị vui lòng chọn ngày khác.")
            return {"appt_time": None, "appt_date": None}
        return {"appt_time": None}

    async def validate_appt_phone(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        """A Vietnamese phone number, normalised to 0XXXXXXXXX."""
        phone = normalize_phone(str(slot_value or ""))
        if phone is None:
            dispatcher.utter_message(text="Số điện thoại chưa đúng. Anh/chị vui lòng nhập số di động 10 số, "
                                          "ví dụ 0912345678.")
            return {"appt_phone": None}
        return {"appt_phone": phone, "appt_confirm": None}

    async def validate_appt_confirm(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """Keep the yes."""
        return {"appt_confirm": True if slot_value else None}

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Validate the turn and note that the citizen wrote."""
        await touch(tracker)
        return await super().run(dispatcher, tracker, domain)


class ValidateBookingForm(AppointmentFormBase):
    """Office (by name, old name or location; one that receives the procedure), date, time, name, phone."""

    def name(self) -> Text:
        return "validate_booking_form"

    def office_of(self, tracker: Tracker) -> Optional[Office]:
        office_id = tracker.get_slot("appt_office")
        return get_office(office_id) if office_id else None

    async def extract_appt_procedure(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        """From a button, from the procedure in context, or from what the booking message names ("none" if not).

        Never asked: it is listed first in the form so the office can be checked against it.
        """
        if tracker.get_slot("appt_procedure"):
            return {}
        key = _entity_value(tracker, "procedure_key") or tracker.get_slot("procedure_key")
        if not key and _latest_intent(tracker) == "book_appointment" and not _payload_message(tracker):
            key = await self._procedure_from_text(_text(tracker))
        return {"appt_procedure": key} if key and get_procedure(key) else {"appt_procedure": "none"}

    @staticmethod
    async def _procedure_from_text(text: str) -> Optional[str]:
        from actions import knowledge_client as kc

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
        if key == "none":
            return {"appt_procedure": "none"}
        proc = get_procedure(key)
        if proc is None:
            return {"appt_procedure": "none"}
        if not offices_for_procedure(key):
            dispatcher.utter_message(
                text=f"Thủ tục {proc.name} không nộp tại các điểm một cửa mà tôi đặt lịch được. Anh/chị xem nơi nộp "
                     f"tại {proc.official_link or texts.PORTAL}. Tôi vẫn có thể đặt lịch làm việc khác cho anh/chị.")
            return {"appt_procedure": "none"}
        return {"appt_procedure": key}

    async def extract_appt_office(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        """An office by button, shared location, or name (current, alias or old district-era name)."""
        if _is_digression(tracker):
            return {}
        office_id = _entity_value(tracker, "office_id")
        if office_id:
            return {"appt_office": office_id}
        lat, lon = _entity_value(tracker, "latitude"), _entity_value(tracker, "longitude")
        if lat and lon:
            return {"appt_office": f"geo:{lat},{lon}"}
        if _payload_message(tracker):
            return {}
        named = find_office(_text(tracker))
        if named is not None:
            return {"appt_office": named.id}
        others = _entity_value(tracker, "phone") or _datetimes(tracker, "date") or _datetimes(tracker, "time")
        if _asked(tracker, "appt_office") and not others:
            return {"appt_office": "?" + _text(tracker)[:200]}
        return {}

    async def validate_appt_office(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Resolve to an office that receives the procedure, or point to the ones that do."""
        value = str(slot_value or "")
        key = tracker.get_slot("appt_procedure")
        key = None if key in (None, "none") else key
        office: Optional[Office]
        if value.startswith("geo:"):
            try:
                lat, lon = (float(x) for x in value[4:].split(","))
                office = nearest_office(lat, lon, key)
            except ValueError:
                office = None
            if office is not None:
                dispatcher.utter_message(text=f"Điểm tiếp nhận gần anh/chị nhất: {texts.office_line(office)}")
        elif value.startswith("?"):
            dispatcher.utter_message(text="Tôi chưa tìm thấy điểm tiếp nhận nào có tên như vậy.")
            return {"appt_office": None}
        else:
            office = get_office(value)
        if office is None:
            return {"appt_office": None}
        if key:
            others = redirect_for(office, key)
            if others is not None:
                proc = get_procedure(key)
                names = ", ".join(o.name for o in others[:3])
                dispatcher.utter_message(
                    text=f"{office.name} không tiếp nhận thủ tục {proc.name if proc else key}. "
                         f"Anh/chị có thể đặt lịch tại: {names}.")
                return {"appt_office": None}
        out: Dict[Text, Any] = {"appt_office": office.id, "appt_confirm": None}
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
        """A name entity anywhere, or the answer when the name was asked."""
        if _is_digression(tracker) or _payload_message(tracker):
            return {}
        value = _entity_value(tracker, "person_name")
        if value is None and _asked(tracker, "appt_name") and not _entity_value(tracker, "phone") \
                and not _datetimes(tracker, "date") and not _datetimes(tracker, "time"):
            value = _text(tracker)
        return {"appt_name": value} if value else {}

    async def validate_appt_name(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """Two to seven words of letters (Vietnamese names), title-cased."""
        name = clean_name(str(slot_value or ""))
        if name is None:
            dispatcher.utter_message(text="Anh/chị vui lòng nhập đầy đủ họ và tên người đến làm thủ tục, "
                                          "ví dụ: Nguyễn Văn An.")
            return {"appt_name": None}
        return {"appt_name": name, "appt_confirm": None}


class ValidateManageBookingForm(AppointmentFormBase):
    """Booking code and the phone it was made with (a code alone reveals nothing), cancel or move, confirmation."""

    def name(self) -> Text:
        return "validate_manage_booking_form"

    def office_of(self, tracker: Tracker) -> Optional[Office]:
        office_id = tracker.get_slot("manage_office")
        return get_office(office_id) if office_id else None

    def wants_date_time(self, tracker: Tracker) -> bool:
        return self._action(tracker) == MOVE and bool(tracker.get_slot("manage_office"))

    def _action(self, tracker: Tracker) -> Optional[str]:
        return tracker.get_slot("manage_action") or _entity_value(tracker, "manage_action") or (
            detect_manage_action(_text(tracker)) if _latest_intent(tracker) == "cancel_appointment" else None)

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
        """A code from the message, or the raw answer when it was asked."""
        if _is_digression(tracker):
            return {}
        value = _entity_value(tracker, "booking_code")
        if value is None and _asked(tracker, "booking_code") and not _payload_message(tracker):
            value = _text(tracker)
        if value is None or value == tracker.get_slot("booking_code"):
            return {}
        return {"booking_code": value}

    async def validate_booking_code(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """The LH-XXXXXX format (verified against the phone later, so nothing is revealed by the code)."""
        code = normalize_booking_code(str(slot_value or ""))
        if code is None:
            dispatcher.utter_message(text="Mã lịch hẹn có dạng LH-XXXXXX (6 chữ hoặc số), được gửi khi đặt lịch. "
                                          "Anh/chị vui lòng kiểm tra lại, hoặc nhắn \"thôi\" để dừng.")
            return {"booking_code": None}
        return {"booking_code": code, "manage_office": None}  # a new code must be proved again

    async def validate_appt_phone(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        """The phone must be the one the booking was made with; wrong code or phone get the same answer."""
        out = await super().validate_appt_phone(slot_value, dispatcher, tracker, domain)
        code = tracker.get_slot("booking_code")
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
                                              "hiệu lực. Anh/chị vui lòng nhập lại mã lịch hẹn.")
            return {"appt_phone": None, "booking_code": None, "manage_attempts": float(attempts)}
        return {"appt_phone": booking.phone, "manage_office": booking.office_id}

    async def extract_manage_action(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """Cancel or move, from a button or the words used."""
        if _is_digression(tracker) or tracker.get_slot("manage_action"):
            return {}
        action = _entity_value(tracker, "manage_action") or detect_manage_action(_text(tracker))
        return {"manage_action": action} if action in (CANCEL, MOVE) else {}

    async def validate_manage_action(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[Text, Any]:
        """Keep cancel or move."""
        return {"manage_action": slot_value if slot_value in (CANCEL, MOVE) else None}


def _booking_slots(tracker: Tracker) -> Tuple[Optional[Office], Optional[dt.datetime], Optional[Procedure]]:
    office = get_office(tracker.get_slot("appt_office") or "")
    day, hhmm = tracker.get_slot("appt_date"), tracker.get_slot("appt_time")
    slot = slot_datetime(day, hhmm) if day and hhmm else None
    key = tracker.get_slot("appt_procedure")
    return office, slot, get_procedure(key) if key and key != "none" else None


class ActionAskApptOffice(Action):
    """Ask where, with the offices that receive the procedure as buttons."""

    def name(self) -> Text:
        return "action_ask_appt_office"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        key = tracker.get_slot("appt_procedure")
        offices = offices_for_procedure(key) if key and key != "none" else all_offices()
        listed = "" if len(offices) <= 5 else " Các điểm: " + "; ".join(o.name for o in offices) + "."
        dispatcher.utter_message(
            text="Anh/chị muốn đặt lịch tại điểm tiếp nhận nào? Anh/chị có thể nhập tên phường/xã (tên cũ cũng được) "
                 "hoặc gửi vị trí để tôi tìm điểm gần nhất." + listed,
            buttons=texts.office_buttons(offices[:5]))
        return []


class ActionAskApptDate(Action):
    """Ask the day, offering the next open days."""

    def name(self) -> Text:
        return "action_ask_appt_date"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        office_id = tracker.get_slot("appt_office") or tracker.get_slot("manage_office")
        office = get_office(office_id or "")
        if office is None:
            dispatcher.utter_message(text="Anh/chị muốn đến vào ngày nào?")
            return []
        days = await db.run_sync(calendar.next_bookable_days, office, calendar.now_local().date(), 4)
        dispatcher.utter_message(
            text=f"Anh/chị muốn đến {office.name} vào ngày nào? (ví dụ: 27/11, \"thứ Năm tuần sau\")",
            buttons=texts.day_buttons(days))
        return []


class ActionAskApptTime(Action):
    """Ask the time, showing only slots with free places."""

    def name(self) -> Text:
        return "action_ask_appt_time"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        office = get_office(tracker.get_slot("appt_office") or tracker.get_slot("manage_office") or "")
        day = tracker.get_slot("appt_date")
        if office is None or not day:
            dispatcher.utter_message(text="Anh/chị muốn đến lúc mấy giờ?")
            return []
        free = await db.run_sync(store.free_slots, office, dt.date.fromisoformat(day))
        dispatcher.utter_message(
            text=f"{texts.cap(texts.fmt_day(dt.date.fromisoformat(day)))} còn trống các giờ: {texts.list_times(free)}. "
                 "Anh/chị chọn giờ nào ạ?", buttons=texts.time_buttons(free))
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
            office = get_office(booking.office_id)
            place = office.name if office else booking.office_id
            if tracker.get_slot("manage_action") == MOVE:
                new = slot_datetime(tracker.get_slot("appt_date"), tracker.get_slot("appt_time"))
                text = (f"Đổi lịch hẹn {booking.code} tại {place} từ {texts.fmt_slot(booking.slot_start)} "
                        f"sang {texts.fmt_slot(new)}. Anh/chị xác nhận chứ ạ?")
            else:
                text = f"Hủy lịch hẹn {booking.code} lúc {texts.fmt_slot(booking.slot_start)} tại {place}. " \
                       "Anh/chị xác nhận hủy chứ ạ?"
            dispatcher.utter_message(text=text, buttons=buttons)
            return []
        office, slot, proc = _booking_slots(tracker)
        if office is None or slot is None:
            return []
        dispatcher.utter_message(text=texts.booking_confirm_question(
            office, slot, tracker.get_slot("appt_name") or "", tracker.get_slot("appt_phone") or "", proc),
            buttons=buttons)
        return []


class ActionAskApptPhone(Action):
    """Ask the phone: a contact number when booking, the number used at booking when cancelling or moving."""

    def name(self) -> Text:
        return "action_ask_appt_phone"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.active_loop_name == "manage_booking_form":
            dispatcher.utter_message(text="Để bảo vệ lịch hẹn, anh/chị vui lòng nhập số điện thoại đã dùng khi đặt "
                                          "lịch này.")
        else:
            dispatcher.utter_message(text="Anh/chị vui lòng nhập số điện thoại liên hệ (dùng để hủy hoặc đổi lịch "
                                          "sau này).")
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
            return _reset(BOOKING_SLOTS) + [SlotSet("last_booking_code", result.booking.code)]
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
            lat = float(_entity_value(tracker, "latitude") or "")
            lon = float(_entity_value(tracker, "longitude") or "")
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
        code = _entity_value(tracker, "booking_code") or ""
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
