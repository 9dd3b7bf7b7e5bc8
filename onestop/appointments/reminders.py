"""Day-before appointment reminders, sent through the Rasa server into the citizen's conversation.

    python -m onestop.appointments.reminders --once

For each booking of tomorrow whose reminder is pending, it claims the reminder in the database first (so two
runs, or a crash after sending, never send it twice), then asks Rasa (`RASA_URL`, token `RASA_TOKEN`) to run
EXTERNAL_appointment_reminder in that conversation. Messenger outside its 24 h window: sent as a message tagged
CONFIRMED_EVENT_UPDATE (allowed for reminders of an event the person registered for). Zalo outside its window:
a ZNS template message to the phone the citizen agreed to receive reminders at (ZNS_ENABLED, see
docs/notifications.md); without consent, not sent, recorded as not_sent_outside_window. Every decision is also
recorded in the notifications table (onestop.notify).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp

from onestop.appointments import store
from knowledge import calendar
from infra.db import run_sync
from infra.rasa_api import RasaApi, rasa_token
from knowledge.offices import get_office
from onestop.notify.consent import APPOINTMENT_REMINDER
from onestop.notify.deliver import DUPLICATE, ChatResult, Deliverer, Notification
from onestop.notify.records import ROUTE_TAG, ROUTE_ZNS, SENT, SKIPPED

log = logging.getLogger(__name__)

EXTERNAL_INTENT = "EXTERNAL_appointment_reminder"
MESSENGER_TAG = "CONFIRMED_EVENT_UPDATE"
ZNS_TAG = "ZNS"  # reminder_channel_tag of a reminder sent as a ZNS template message


@dataclass
class ReminderOutcome:
    """What happened to one booking's reminder."""

    code: str
    result: str
    channel_tag: Optional[str] = None


class ReminderSender:
    """Sends due reminders via Rasa's trigger_intent endpoint."""

    def __init__(self, rasa_url: str, *, rasa_token: Optional[str] = None, url: Optional[str] = None,
                 timeout: float = 10.0, zalo_free_only: bool = False, deliverer: Optional[Deliverer] = None) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.rasa_token = rasa_token
        self.url = url  # database URL (None: the application's)
        self.timeout = timeout
        self.zalo_free_only = zalo_free_only
        # Without a deliverer: chat and Messenger tags only, decisions recorded in the same database.
        self.deliverer = deliverer or Deliverer(url=url, zalo_free_only=zalo_free_only)

    @classmethod
    def from_env(cls) -> "ReminderSender":
        """Configured from RASA_URL, RASA_TOKEN, NOTIFY_ZALO_FREE_ONLY and the ZNS_* variables."""
        deliverer = Deliverer.from_env()
        return cls(os.environ.get("RASA_URL") or "http://localhost:5005",
                   rasa_token=rasa_token(), zalo_free_only=deliverer.zalo_free_only, deliverer=deliverer)

    async def _trigger(self, session: aiohttp.ClientSession, booking: store.Booking) -> Tuple[Optional[str], bool]:
        """(error or None, whether the message surely did not reach Rasa and may be retried)."""
        # Rasa 3.6's trigger_intent ignores metadata: action_appointment_reminder emits a neutral event-update
        # notification that the Messenger channel sends with the CONFIRMED_EVENT_UPDATE tag itself.
        api = RasaApi(self.rasa_url, self.rasa_token or "", session=session)
        try:
            status = await api.trigger_intent(booking.sender_id, EXTERNAL_INTENT, {"booking_code": booking.code})
            return (None, False) if 200 <= status < 300 else (f"HTTP {status}", False)
        except asyncio.TimeoutError:
            return "timeout", False
        except aiohttp.ClientConnectorError as exc:
            return type(exc).__name__, True  # never connected: nothing can have been delivered
        except aiohttp.ClientError as exc:
            return type(exc).__name__, False

    async def run_once(self, now: Optional[dt.datetime] = None) -> List[ReminderOutcome]:
        """Handle every due reminder once."""
        now = calendar.to_local(now or calendar.now_local())
        due = await run_sync(store.due_reminders, now, self.url)
        outcomes: List[ReminderOutcome] = []
        if not due:
            return outcomes
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
                for booking in due:
                    outcomes.append(await self._handle(session, booking, now))
        finally:
            await self.deliverer.close()
        return outcomes

    @staticmethod
    def notification(booking: store.Booking) -> Notification:
        """The reminder of ``booking`` as a notification (one per booking and slot: a moved booking is new)."""
        office = get_office(booking.office_id)
        slot = calendar.to_local(booking.slot_start)
        return Notification(
            dedupe_key=f"{APPOINTMENT_REMINDER}:{booking.code}:{slot:%Y%m%dT%H%M}", purpose=APPOINTMENT_REMINDER,
            sender_id=booking.sender_id, channel=booking.channel,
            last_user_message_at=booking.last_user_message_at, office_id=booking.office_id,
            fields={"customer_name": booking.full_name, "booking_code": booking.code,
                    "appointment_date": f"{slot:%d/%m/%Y}", "appointment_time": f"{slot:%H:%M}",
                    "office_name": office.name if office else "", "office_address": office.address if office else ""})

    async def _handle(self, session: aiohttp.ClientSession, booking: store.Booking,
                      now: dt.datetime) -> ReminderOutcome:
        if not await run_sync(store.claim_reminder, booking.code, now, self.url):
            return ReminderOutcome(booking.code, "already_claimed")

        async def chat(tag: Optional[str]) -> ChatResult:
            # The tag is not passed on: the Messenger channel tags the reminder's neutral notification itself.
            error, retryable = await self._trigger(session, booking)
            return ChatResult(error, retryable)

        delivery = await self.deliverer.deliver(self.notification(booking), chat, now)
        tag = MESSENGER_TAG if delivery.route == ROUTE_TAG else ZNS_TAG if delivery.route == ROUTE_ZNS else None
        if delivery.status == DUPLICATE:  # recorded by an earlier run that crashed before updating the booking
            status = store.REMINDER_SENT if delivery.previous == SENT else store.REMINDER_FAILED
            await run_sync(store.set_reminder_status, booking.code, status, tag, now, self.url)
            return ReminderOutcome(booking.code, status, tag)
        if delivery.status == SKIPPED:
            await run_sync(store.set_reminder_status, booking.code, store.REMINDER_NOT_SENT_WINDOW, None,
                           now, self.url)
            return ReminderOutcome(booking.code, store.REMINDER_NOT_SENT_WINDOW)
        if delivery.sent:
            await run_sync(store.set_reminder_status, booking.code, store.REMINDER_SENT, tag, now, self.url)
            return ReminderOutcome(booking.code, store.REMINDER_SENT, tag)
        log.warning("reminder %s not sent: %s", booking.code, delivery.detail)
        if delivery.retryable:
            await run_sync(store.set_reminder_status, booking.code, store.REMINDER_PENDING, None, now, self.url)
            return ReminderOutcome(booking.code, f"retry: {delivery.detail}")
        # Not retried: Rasa may have delivered before failing, and a duplicate reminder is worse than none.
        await run_sync(store.set_reminder_status, booking.code, store.REMINDER_FAILED, tag, now, self.url)
        return ReminderOutcome(booking.code, store.REMINDER_FAILED, tag)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m onestop.appointments.reminders",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--once", action="store_true", required=True, help="send due reminders once and exit")
    parser.add_argument("--rasa-url", help="Rasa server (default: $RASA_URL or http://localhost:5005)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sender = ReminderSender.from_env()
    if args.rasa_url:
        sender.rasa_url = args.rasa_url.rstrip("/")
    for o in asyncio.run(sender.run_once()):
        print(f"{o.code}\t{o.result}\t{o.channel_tag or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
