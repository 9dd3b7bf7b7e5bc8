"""ZNS sending: window open -> chat message, closed -> ZNS, no consent -> nothing; once, recorded, over real HTTP."""
from __future__ import annotations

import datetime as dt
from typing import Dict, List

import sqlalchemy as sa

from infra import db
from infra.db import run_sync
from infra.masking import user_ref
from knowledge import calendar
from onestop.appointments import store
from onestop.appointments.reminders import MESSENGER_TAG, ZNS_TAG, ReminderSender
from onestop.notify import consent, records
from onestop.notify.deliver import Deliverer
from onestop.notify.templates import parse_registry
from tests.fakes.fake_zns import FakeZns
from tests.fakes.rasa_server import FakeRasaServer
from tests.notify.conftest import zns_client

BOOKED_AT = dt.datetime(2027, 2, 22, 9, 0, tzinfo=calendar.tz())   # 8 days before: every window is closed
SLOT = dt.datetime(2027, 3, 3, 9, 0, tzinfo=calendar.tz())
RUN_AT = dt.datetime(2027, 3, 2, 18, 0, tzinfo=calendar.tz())


def _book(url: str, channel: str, sender: str, phone: str = "0912345678",
          booked_at: dt.datetime = BOOKED_AT) -> store.Booking:
    res = store.book("phuong_ba_dinh", SLOT, "Trần Thị Bích", phone, channel=channel, sender_id=sender,
                     now=booked_at, url=url)
    assert res.ok
    return res.booking


def _rows(url: str) -> List[Dict]:
    with db.get_engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(db.notifications).order_by(db.notifications.c.id))]


async def test_window_open_goes_by_chat_closed_by_zns_no_consent_nothing(
        sqlite_url: str, fake_rasa: FakeRasaServer, fake_zns: FakeZns, deliverer: Deliverer) -> None:
    inside = await run_sync(_book, sqlite_url, "zalo", "za-inside", "0911111111", RUN_AT - dt.timedelta(days=2))
    closed = await run_sync(_book, sqlite_url, "zalo", "za-closed", "0922222222")
    no_consent = await run_sync(_book, sqlite_url, "zalo", "za-silent", "0933333333")
    await run_sync(lambda: consent.record_consent("za-inside", "0911111111", consent.APPOINTMENT_REMINDER,
                                                  channel="zalo", source="đồng ý", url=sqlite_url))
    await run_sync(lambda: consent.record_consent("za-closed", "0922 222 222", consent.APPOINTMENT_REMINDER,
                                                  channel="zalo", source="Có, gửi vào số 0922222222",
                                                  url=sqlite_url))
    sender = ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer)
    outcomes = {o.code: (o.result, o.channel_tag) for o in await sender.run_once(RUN_AT)}
    assert outcomes == {inside.code: (store.REMINDER_SENT, None), closed.code: (store.REMINDER_SENT, ZNS_TAG),
                        no_consent.code: (store.REMINDER_NOT_SENT_WINDOW, None)}

    # window open: the chat path, even though a ZNS consent exists
    assert [c["sender_id"] for c in fake_rasa.calls] == ["za-inside"]
    # window closed + consent: one ZNS message to the consented phone with the template's parameters
    assert len(fake_zns.delivered) == 1
    body = fake_zns.delivered[0]["body"]
    assert fake_zns.delivered[0]["token"] == "zns-at"
    assert body["phone"] == "84922222222" and body["template_id"] == "300001"
    assert body["template_data"] == {"customer_name": "Trần Thị Bích", "booking_code": closed.code,
                                     "appointment_date": "03/03/2027", "appointment_time": "09:00",
                                     "office_name": body["template_data"]["office_name"]}
    assert body["template_data"]["office_name"] and len(body["tracking_id"]) == 32
    # no consent: nothing at all
    assert all(s["body"]["phone"] != "84933333333" for s in fake_zns.sends)

    rows = {r["sender_ref"]: r for r in _rows(sqlite_url)}
    assert {k: (r["route"], r["status"]) for k, r in rows.items()} == {
        user_ref("za-inside"): ("chat", "sent"), user_ref("za-closed"): ("zns", "sent"),
        user_ref("za-silent"): ("none", "skipped")}
    assert rows[user_ref("za-closed")]["template"] == "300001"
    assert rows[user_ref("za-closed")]["detail"] == "msg_id zns-msg-1"
    assert rows[user_ref("za-silent")]["detail"] == "outside_window: no ZNS consent"
    assert all(r["office_id"] == "phuong_ba_dinh" and r["purpose"] == "appointment_reminder" for r in rows.values())
    assert (await run_sync(store.get_booking, closed.code, sqlite_url)).reminder_channel_tag == ZNS_TAG

    # a rerun sends nothing more
    assert await sender.run_once(RUN_AT + dt.timedelta(hours=1)) == []
    assert len(fake_zns.sends) == 1 and len(fake_rasa.calls) == 1


async def test_withdrawn_consent_sends_nothing(sqlite_url: str, fake_rasa: FakeRasaServer, fake_zns: FakeZns,
                                               deliverer: Deliverer) -> None:
    b = await run_sync(_book, sqlite_url, "zalo", "za", "0922222222")
    await run_sync(lambda: consent.record_consent("za", "0922222222", consent.PURPOSES, url=sqlite_url))
    assert await run_sync(lambda: consent.withdraw_consent("za", url=sqlite_url)) == 3  # "hủy nhận tin"
    outcomes = await ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer).run_once(RUN_AT)
    assert [(o.code, o.result) for o in outcomes] == [(b.code, store.REMINDER_NOT_SENT_WINDOW)]
    assert fake_zns.sends == [] and fake_rasa.calls == []
    assert [r["detail"] for r in _rows(sqlite_url)] == ["outside_window: ZNS consent withdrawn"]


async def test_messenger_outside_window_goes_with_its_tag(sqlite_url: str, fake_rasa: FakeRasaServer,
                                                           fake_zns: FakeZns, deliverer: Deliverer) -> None:
    b = await run_sync(_book, sqlite_url, "facebook", "fb-1")
    await run_sync(lambda: consent.record_consent("fb-1", "0912345678", consent.APPOINTMENT_REMINDER,
                                                  url=sqlite_url))
    outcomes = await ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer).run_once(RUN_AT)
    assert [(o.code, o.result, o.channel_tag) for o in outcomes] == [(b.code, store.REMINDER_SENT, MESSENGER_TAG)]
    assert [c["sender_id"] for c in fake_rasa.calls] == ["fb-1"] and fake_zns.sends == []  # ZNS is Zalo only
    assert [(r["route"], r["status"]) for r in _rows(sqlite_url)] == [("tag", "sent")]


async def test_zns_failure_is_recorded_and_not_repeated(sqlite_url: str, fake_rasa: FakeRasaServer,
                                                        fake_zns: FakeZns, deliverer: Deliverer) -> None:
    b = await run_sync(_book, sqlite_url, "zalo", "za", "0922222222")
    await run_sync(lambda: consent.record_consent("za", "0922222222", consent.APPOINTMENT_REMINDER, url=sqlite_url))
    fake_zns.fail_next("unknown", "user_cannot_receive")  # -100 is retried, -119 is final
    sender = ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer)
    outcomes = await sender.run_once(RUN_AT)
    assert [(o.code, o.result, o.channel_tag) for o in outcomes] == [(b.code, store.REMINDER_FAILED, ZNS_TAG)]
    assert len(fake_zns.sends) == 2 and fake_zns.delivered == []
    [row] = _rows(sqlite_url)
    assert (row["route"], row["status"]) == ("zns", "failed") and row["detail"].startswith("zns -119")
    assert records.counts(sqlite_url) == {("zns", "failed"): 1}
    await run_sync(store.set_reminder_status, b.code, store.REMINDER_PENDING, None, RUN_AT, sqlite_url)
    outcomes = await sender.run_once(RUN_AT + dt.timedelta(minutes=5))  # even if the booking is reset by hand
    assert [o.result for o in outcomes] == [store.REMINDER_FAILED] and len(fake_zns.sends) == 2


async def test_transient_zns_errors_are_retried_with_backoff(sqlite_url: str, fake_rasa: FakeRasaServer,
                                                             fake_zns: FakeZns, deliverer: Deliverer) -> None:
    await run_sync(_book, sqlite_url, "zalo", "za", "0922222222")
    await run_sync(lambda: consent.record_consent("za", "0922222222", consent.APPOINTMENT_REMINDER, url=sqlite_url))
    fake_zns.fail_next("http500", "unknown")
    outcomes = await ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer).run_once(RUN_AT)
    assert [o.result for o in outcomes] == [store.REMINDER_SENT]
    assert len(fake_zns.sends) == 3 and len(fake_zns.delivered) == 1


async def test_template_not_registered_is_skipped_with_the_reason(sqlite_url: str, fake_rasa: FakeRasaServer,
                                                                  fake_zns: FakeZns) -> None:
    await run_sync(_book, sqlite_url, "zalo", "za", "0922222222")
    await run_sync(lambda: consent.record_consent("za", "0922222222", consent.APPOINTMENT_REMINDER, url=sqlite_url))
    registry = parse_registry({"templates": {"dossier_status": {"template_id": "300002",
                                                                "params": {"dossier_code": "dossier_code"}}}})
    deliverer = Deliverer(zns=zns_client(fake_zns.base_url), templates=registry, url=sqlite_url)
    outcomes = await ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer).run_once(RUN_AT)
    assert [o.result for o in outcomes] == [store.REMINDER_NOT_SENT_WINDOW] and fake_zns.sends == []
    [row] = _rows(sqlite_url)
    assert row["status"] == "skipped" and row["detail"].startswith("template_not_registered: no ZNS template for "
                                                                   "appointment_reminder")


async def test_zns_disabled_keeps_the_old_behaviour(sqlite_url: str, fake_rasa: FakeRasaServer) -> None:
    await run_sync(_book, sqlite_url, "zalo", "za", "0922222222")
    await run_sync(lambda: consent.record_consent("za", "0922222222", consent.APPOINTMENT_REMINDER, url=sqlite_url))
    outcomes = await ReminderSender(fake_rasa.base_url, url=sqlite_url).run_once(RUN_AT)
    assert [o.result for o in outcomes] == [store.REMINDER_NOT_SENT_WINDOW] and fake_rasa.calls == []
    assert [r["detail"] for r in _rows(sqlite_url)] == ["outside_window: ZNS not configured"]


async def test_expired_token_is_fetched_again_once(sqlite_url: str, fake_rasa: FakeRasaServer,
                                                   fake_zns: FakeZns) -> None:
    tokens = ["stale", "zns-at"]

    async def provide() -> str:  # the connector rotated the token in between
        return tokens.pop(0) if len(tokens) > 1 else tokens[0]

    from onestop.notify.templates import load_registry
    from onestop.notify.zns import ZnsClient
    from tests.notify.conftest import FAST, TEMPLATE_IDS

    deliverer = Deliverer(zns=ZnsClient(provide, base_url=fake_zns.base_url, policy=FAST),
                          templates=load_registry(env=TEMPLATE_IDS), url=sqlite_url)
    await run_sync(_book, sqlite_url, "zalo", "za", "0922222222")
    await run_sync(lambda: consent.record_consent("za", "0922222222", consent.APPOINTMENT_REMINDER, url=sqlite_url))
    outcomes = await ReminderSender(fake_rasa.base_url, url=sqlite_url, deliverer=deliverer).run_once(RUN_AT)
    assert [o.result for o in outcomes] == [store.REMINDER_SENT]
    assert [s["token"] for s in fake_zns.sends] == ["stale", "zns-at"]
