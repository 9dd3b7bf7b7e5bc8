"""The validation shared by the booking and the manage forms: date, time, phone, confirmation.

A day is checked as soon as it is known: against the deployment's default calendar while no office is chosen
(Sunday, a holiday, a past day, 30/2 are refused at once), and again against the office's own calendar once it is.
"""
from __future__ import annotations

import abc
import datetime as dt
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from infra import db
from onestop.appointments import texts
from onestop.appointments import store
from knowledge import calendar
from actions.appointments.extract import (PHONEISH_RE, datetimes, entity_value, folded, is_payload, latest_intent,
                                          parse_time, phone_in, same_week_correction, slot_datetime, text_of)
from knowledge.schema import Office
from vntext.patterns import normalize_phone

log = logging.getLogger(__name__)

# Intents that never fill a form slot when the message carries no booking piece: the form rejects the turn and
# the rules answer them, then resume.
DIGRESSIONS = frozenset({"ask_procedure", "ask_office", "check_dossier", "dossier_details", "human_handoff",
                         "greet", "thank", "goodbye", "bot_challenge", "out_of_scope", "deny", "insult",
                         "ask_accuracy", "wait"})
# A phone-looking run of digits (8 to 12 digits with spaces or dots), to say what is wrong with a mistyped one.
_YES_RE = re.compile(r"^(?:(?:ok|oke|u|uh|vang|da|dung|dung roi|chuan|chuan roi|xac nhan|dong y|co|chot|duoc|"
                     r"roi|nhe|nha|a|ad|admin|giup|minh|em|toi|cam on|luon|di|vay|the|do|ay)\s*)+$")


async def touch(tracker: Tracker) -> None:
    """Record that the citizen wrote (the messaging window for reminders); never breaks the turn."""
    try:
        await db.run_sync(store.touch_user, tracker.sender_id)
    except Exception:
        log.exception("could not record the user's last message time")


def default_office() -> Office:
    """A stand-in office with the deployment's default calendar, to check a day before the office is known."""
    from knowledge.directory import defaults

    d = defaults()
    return Office(id="_default", name="Bộ phận một cửa", kind="commune",
                  hours={k: list(v) for k, v in (d.get("hours") or {}).items()},
                  counters=int(d.get("counters") or 1), slot_minutes=int(d.get("slot_minutes") or 30))


def pieces(tracker: Tracker) -> bool:
    """True when the latest message carries a date, a time or a phone (then it is not a digression)."""
    if is_payload(tracker):
        return False
    times = [t for t in datetimes(tracker, "time") if re.search(r"\d", t.text or "")]
    return bool(datetimes(tracker, "date") or times or entity_value(tracker, "phone")
                or PHONEISH_RE.search(text_of(tracker)))


def is_digression(tracker: Tracker) -> bool:
    """A message that asks something else and gives nothing for the form."""
    intent = latest_intent(tracker)
    from onestop.handoffs.callbacks import wants_callback

    if intent == "human_handoff" or wants_callback(text_of(tracker)):
        return True  # "cho gặp cán bộ, để lại số gọi lại" is for the hand-off, not the form
    if intent not in DIGRESSIONS:
        return False
    if intent == "out_of_scope" and tracker.get_slot("requested_slot") and len(text_of(tracker).split()) <= 6:
        return False  # a short answer the NLU could not place ("chỗ gần nhà") is a miss for the question asked
    from actions.appointments.extract import find_name

    if pieces(tracker) or find_name(text_of(tracker)):
        return False
    if intent in ("ask_procedure", "ask_office", "out_of_scope") and _names_place(tracker):
        return False  # "ở phường Yên Hòa nhé" answers where
    return True


def _names_place(tracker: Tracker) -> bool:
    from knowledge.offices import NOT_FOUND, resolve_place

    return resolve_place(text_of(tracker)).status != NOT_FOUND


def asked(tracker: Tracker, slot: str) -> bool:
    """Whether the form's latest question was for ``slot``."""
    return tracker.get_slot("requested_slot") == slot


def says_yes(tracker: Tracker) -> bool:
    """A yes to the summary: the affirm intent, or a short message made only of yes-words ("ok chốt")."""
    if latest_intent(tracker) == "affirm":
        return True
    f = folded(text_of(tracker))
    return bool(f) and len(f.split()) <= 8 and bool(_YES_RE.match(f)) and not re.search(r"\bkhong\b", f)


def _inside_name(tracker: Tracker, typed: str) -> bool:
    """"Mai" in "Mai Xuân Trường" is a person's name, not "tomorrow"."""
    from actions.appointments.extract import find_name

    name = find_name(text_of(tracker))
    return bool(name) and all(w in folded(name).split() for w in folded(typed).split())


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
        if is_digression(tracker) or not self.wants_date_time(tracker):
            return {}
        value = entity_value(tracker, "date") if is_payload(tracker) else None
        if value is None:
            dates = [d for d in datetimes(tracker, "date") if not _inside_name(tracker, d.text)]
            if dates:
                value = dates[0].value if dates[0].value and not dates[0].invalid else dates[0].text
                value = same_week_correction(dates[0].text, value, tracker.get_slot("appt_date"))
            elif asked(tracker, "appt_date") and not is_payload(tracker) and not datetimes(tracker, "time") \
                    and not phone_in(tracker) and latest_intent(tracker) != "deny" and not _names_place(tracker):
                value = text_of(tracker)  # validation explains why it is not a date
        if value is None:
            return {}
        out: Dict[Text, Any] = {"appt_date": value}
        if tracker.get_slot("appt_date") not in (None, value) and not self._time_in_message(tracker):
            out["appt_time"] = None  # another day: the time must be chosen again among that day's free slots
        return out

    def _time_in_message(self, tracker: Tracker) -> bool:
        return bool(entity_value(tracker, "time") if is_payload(tracker) else datetimes(tracker, "time"))

    async def extract_appt_time(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        """A time from a button or the message."""
        if is_digression(tracker) or not self.wants_date_time(tracker):
            return {}
        if is_payload(tracker):
            value = entity_value(tracker, "time")
            return {"appt_time": value} if value else {}
        times = datetimes(tracker, "time")
        # "sáng thứ 5 tầm 10h": the written hour wins over the part of day ("sáng" alone reads as 08:00), and a
        # part of day alone ("tối rồi") is a time only when a time was asked.
        times = sorted(times, key=lambda t: not re.search(r"\d", t.text or ""))
        if times and not re.search(r"\d", times[0].text or "") and not asked(tracker, "appt_time"):
            times = []
        if times and times[0].value:
            return {"appt_time": parse_time(times[0].value, text_of(tracker)) or times[0].text}
        if asked(tracker, "appt_time") and not datetimes(tracker, "date") and not phone_in(tracker) \
                and latest_intent(tracker) not in ("affirm", "deny"):
            return {"appt_time": text_of(tracker)}
        return {}

    async def extract_appt_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """A phone number from the message, or the raw answer when it was asked."""
        if is_digression(tracker):
            return {}
        value = phone_in(tracker)
        if value is None and asked(tracker, "appt_phone") and not is_payload(tracker):
            value = text_of(tracker)
        return {"appt_phone": value} if value else {}

    async def extract_appt_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Only a 'yes' to the summary confirms; 'no' stops the form through the rules."""
        if asked(tracker, "appt_confirm") and says_yes(tracker):
            return {"appt_confirm": True}
        return {}

    # --- validation -------------------------------------------------------------------------------------------
    async def validate_appt_date(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        """Refuse past days, weekends, holidays, impossible dates and full days, offering the next open ones."""
        if slot_value is None:
            return {"appt_date": None}
        office = self.office_of(tracker)
        if office is None:  # checked now against the default calendar, again once the office is known
            check = await db.run_sync(calendar.check_date, default_office(), str(slot_value))
            if not check.ok:
                dispatcher.utter_message(text=texts.date_refusal(check, default_office()))
                return {"appt_date": None, "appt_confirm": None}
            assert check.day is not None
            return {"appt_date": check.day.isoformat()}
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
            return await self.check_time_default(slot_value, dispatcher, text_of(tracker))
        return await self.check_time(office, day, slot_value, dispatcher, text_of(tracker))

    async def check_time_default(self, slot_value: Any, dispatcher: CollectingDispatcher,
                                 text: str = "") -> Dict[Text, Any]:
        """Before office and day are known: refuse a time outside the default opening hours (lunch, evening)."""
        hhmm = parse_time(str(slot_value), text) if ":" in str(slot_value) else None
        if hhmm is None:
            return {"appt_time": slot_value}  # explained once office and day are known
        office = default_office()
        spans = [s for spans in office.hours.values() for s in spans]
        if spans and not any(s[:5] <= hhmm < s[6:11] for s in spans):
            dispatcher.utter_message(text=texts.time_refusal(hhmm, office))
            return {"appt_time": None}
        return {"appt_time": hhmm}

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
            why = texts.time_refusal(hhmm, office)
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
            digits = re.sub(r"\D", "", str(slot_value or ""))
            got = f" (anh/chị nhập {len(digits)} chữ số)" if 6 <= len(digits) <= 13 else ""
            dispatcher.utter_message(text=f"Số điện thoại chưa đúng{got}. Anh/chị vui lòng nhập số di động 10 chữ số, "
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
