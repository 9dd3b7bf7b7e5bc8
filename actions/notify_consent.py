"""Rasa side of the consent to Zalo notification messages (ZNS): asked after a booking on Zalo, withdrawn on request.

A ZNS message reaches the phone given at booking when the chat window has closed (onestop.notify). The phone is
taken from the booking itself, never from the button, so a forged payload cannot sign someone else's number up.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from infra import db
from infra.masking import mask_phone
from onestop.appointments import store
from onestop.notify import consent

log = logging.getLogger(__name__)

CONSENT_TEXT = ("Anh/chị có muốn nhận tin nhắc lịch qua tin nhắn thông báo Zalo (ZNS) gửi tới số {phone} không ạ? "
                "Tin ZNS vẫn đến được khi cuộc trò chuyện đã quá thời hạn Zalo cho phép nhắn.")
AGREED = ("Dạ, đã ghi nhận. Tôi sẽ gửi tin nhắc lịch qua Zalo tới số {phone}. Khi không muốn nhận nữa, anh/chị "
          "nhắn \"hủy nhận tin\" là được.")
DECLINED = ("Dạ, tôi sẽ không gửi tin ZNS. Tin nhắc lịch vẫn được gửi trong cuộc trò chuyện này khi Zalo còn cho "
            "phép nhắn.")
NO_BOOKING = "Dạ, tôi chưa thấy lịch hẹn nào vừa đặt trong cuộc trò chuyện này nên chưa ghi nhận gì ạ."
STOPPED = ("Dạ, tôi đã dừng gửi tin nhắn thông báo Zalo (ZNS) tới anh/chị. Lịch hẹn đã đặt vẫn giữ nguyên; anh/chị "
           "vẫn có thể hỏi tôi bất cứ lúc nào.")
NOTHING_TO_STOP = "Dạ, hiện tôi không gửi tin nhắn thông báo nào tới anh/chị ạ."


def _consent_wanted(sender_id: str) -> bool:
    return not consent.has_consent(sender_id, consent.APPOINTMENT_REMINDER)


async def ask_after_booking(tracker: Tracker, dispatcher: CollectingDispatcher, phone: str) -> bool:
    """On Zalo, after a new booking: ask whether reminders may go by ZNS (False when not asked)."""
    if (tracker.get_latest_input_channel() or "") != "zalo":
        return False
    try:
        wanted = await db.run_sync(_consent_wanted, tracker.sender_id)
    except Exception:
        log.exception("consent lookup failed")
        return False
    if not wanted:
        return False
    dispatcher.utter_message(text=CONSENT_TEXT.format(phone=mask_phone(phone)), buttons=[
        {"title": "Đồng ý", "payload": '/zns_consent{"consent": "yes"}'},
        {"title": "Không, cảm ơn", "payload": '/zns_consent{"consent": "no"}'},
    ])
    return True


def _entity(tracker: Tracker, name: str) -> Optional[str]:
    return next((str(e["value"]) for e in tracker.latest_message.get("entities", [])
                 if e.get("entity") == name and e.get("value")), None)


class ActionZnsConsent(Action):
    """The citizen's answer to the ZNS question: recorded with the booking's phone (yes), or nothing (no)."""

    def name(self) -> Text:
        return "action_zns_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if _entity(tracker, "consent") != "yes":
            dispatcher.utter_message(text=DECLINED)
            return []
        code = tracker.get_slot("last_booking_code")
        booking = await db.run_sync(store.get_booking, code) if code else None
        if booking is None or booking.sender_id != tracker.sender_id:
            dispatcher.utter_message(text=NO_BOOKING)
            return []
        phone = await db.run_sync(lambda: consent.record_consent(
            tracker.sender_id, booking.phone, [consent.APPOINTMENT_REMINDER],
            channel=tracker.get_latest_input_channel() or "rest", source="Đồng ý (nút sau khi đặt lịch)"))
        dispatcher.utter_message(text=AGREED.format(phone=mask_phone(phone)))
        return []


class ActionStopNotifications(Action):
    """"hủy nhận tin": every ZNS consent of this conversation withdrawn (the record of it is kept)."""

    def name(self) -> Text:
        return "action_stop_notifications"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        withdrawn = await db.run_sync(consent.withdraw_consent, tracker.sender_id)
        dispatcher.utter_message(text=STOPPED if withdrawn else NOTHING_TO_STOP)
        return []
