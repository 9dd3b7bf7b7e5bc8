"""ZNS consent in the dialogue: asked after a booking on Zalo only, recorded with the booking's phone, withdrawn."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import notify_consent as nc
from infra import db
from knowledge import calendar
from onestop.appointments import store
from onestop.notify import consent
from tests.actions.helpers import make_tracker

NOW = dt.datetime(2026, 11, 30, 7, 0, tzinfo=calendar.tz())
SLOT = dt.datetime(2026, 12, 3, 9, 0, tzinfo=calendar.tz())


@pytest.fixture(autouse=True)
def fresh_db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    store.reset_created()
    db.dispose_all()
    yield
    db.dispose_all()
    store.reset_created()


def _booking(sender: str) -> str:
    result = store.book("phuong_ba_dinh", SLOT, "Trần Thị B", "0912345678", channel="zalo", sender_id=sender, now=NOW)
    assert result.ok
    return result.booking.code


async def test_asked_on_zalo_only_and_not_again_once_given():
    dispatcher = CollectingDispatcher()
    assert await nc.ask_after_booking(make_tracker("Xác nhận", channel="zalo"), dispatcher, "0912345678")
    assert dispatcher.messages[0]["text"] == nc.CONSENT_TEXT.format(phone="091*******")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        '/zns_consent{"consent": "yes"}', '/zns_consent{"consent": "no"}']
    assert not await nc.ask_after_booking(make_tracker("Xác nhận", channel="messenger"), CollectingDispatcher(),
                                          "0912345678")
    consent.record_consent("citizen-1", "0912345678", [consent.APPOINTMENT_REMINDER])
    assert not await nc.ask_after_booking(make_tracker("Xác nhận", channel="zalo"), CollectingDispatcher(),
                                          "0912345678")


async def test_yes_records_the_phone_of_the_booking_made_in_this_chat():
    code = _booking("zalo-7")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/zns_consent{"consent": "yes"}', intent="zns_consent", sender_id="zalo-7",
                           channel="zalo", entities=[{"entity": "consent", "value": "yes"}],
                           slots={"last_booking_code": code})
    assert await nc.ActionZnsConsent().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages[0]["text"] == nc.AGREED.format(phone="091*******")
    assert consent.consented_phone("zalo-7", consent.APPOINTMENT_REMINDER) == "0912345678"


async def test_a_booking_of_another_chat_signs_nobody_up():
    code = _booking("zalo-7")
    dispatcher = CollectingDispatcher()
    tracker = make_tracker('/zns_consent{"consent": "yes"}', intent="zns_consent", sender_id="zalo-8",
                           channel="zalo", entities=[{"entity": "consent", "value": "yes"}],
                           slots={"last_booking_code": code})
    await nc.ActionZnsConsent().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == nc.NO_BOOKING
    assert not consent.has_consent("zalo-8", consent.APPOINTMENT_REMINDER)
    assert not consent.has_consent("zalo-7", consent.APPOINTMENT_REMINDER)


async def test_no_records_nothing_and_stop_withdraws():
    dispatcher = CollectingDispatcher()
    await nc.ActionZnsConsent().run(dispatcher, make_tracker('/zns_consent{"consent": "no"}', intent="zns_consent",
                                                             entities=[{"entity": "consent", "value": "no"}]), {})
    assert dispatcher.messages[0]["text"] == nc.DECLINED
    dispatcher = CollectingDispatcher()
    await nc.ActionStopNotifications().run(dispatcher, make_tracker("hủy nhận tin"), {})
    assert dispatcher.messages[0]["text"] == nc.NOTHING_TO_STOP
    consent.record_consent("citizen-1", "0912345678", [consent.APPOINTMENT_REMINDER])
    dispatcher = CollectingDispatcher()
    await nc.ActionStopNotifications().run(dispatcher, make_tracker("hủy nhận tin"), {})
    assert dispatcher.messages[0]["text"] == nc.STOPPED
    assert not consent.has_consent("citizen-1", consent.APPOINTMENT_REMINDER)
