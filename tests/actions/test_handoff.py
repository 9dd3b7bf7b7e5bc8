"""Hand-off and fallback actions: exact events and messages."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import callbacks, handoff
from infra import db
from onestop import handoffs
from onestop.handoffs import callbacks as callback_store
from onestop.handoffs import messages
from knowledge.hours import TZ, describe_next_opening, is_working_time, next_opening
from tests.actions.helpers import make_tracker


@pytest.fixture(autouse=True)
def sqlite_db(tmp_path, monkeypatch):
    """Each test gets its own SQLite file."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))
    db.dispose_all()
    yield
    db.dispose_all()


WORKING = dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)   # a Tuesday morning
EVENING = dt.datetime(2026, 11, 24, 20, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def office_hours(monkeypatch):
    """Hand-offs happen in working hours unless a test says otherwise."""
    for module in (handoff, callbacks, callback_store, messages):
        monkeypatch.setattr(module, "now_local", lambda: WORKING)


async def test_handoff_pauses_records_and_tells_hours():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("cho tôi gặp cán bộ, sđt 0912345678", intent="human_handoff", channel="zalo")
    events = await handoff.ActionHandoff().run(dispatcher, tracker, {})
    assert events == [SlotSet("fallback_count", 0.0), ConversationPaused()]
    assert len(dispatcher.messages) == 1
    text = dispatcher.messages[0]["text"]
    assert "cán bộ" in text and "8:00-11:30" in text
    rows = handoffs.list_handoffs()
    assert [(r["sender_id"], r["channel"], r["reason"], r["status"]) for r in rows] == \
        [("citizen-1", "zalo", "requested", "waiting")]
    assert "0912345678" not in (rows[0]["last_message"] or "")


async def test_second_handoff_refreshes_the_open_one():
    for _ in range(2):
        await handoff.ActionHandoff().run(CollectingDispatcher(), make_tracker("gặp cán bộ"), {})
    assert len(handoffs.list_handoffs()) == 1


async def test_take_and_close():
    await handoff.ActionHandoff().run(CollectingDispatcher(), make_tracker("gặp cán bộ"), {})
    assert handoffs.set_status("citizen-1", "taken", "officer.lan") == 1
    assert handoffs.list_handoffs()[0]["officer"] == "officer.lan"
    assert handoffs.set_status("citizen-1", "closed") == 1
    assert handoffs.list_handoffs() == []
    assert len(handoffs.list_handoffs(include_closed=True)) == 1


async def test_fallback_then_offer_an_officer():
    dispatcher = CollectingDispatcher()
    events = await handoff.ActionFallback().run(dispatcher, make_tracker("asdkjh", intent="nlu_fallback"), {})
    assert events == [SlotSet("fallback_count", 1.0)]
    assert dispatcher.messages[0]["response"] == "utter_default"

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("qwe", intent="nlu_fallback", slots={"fallback_count": 1.0})
    events = await handoff.ActionFallback().run(dispatcher, tracker, {})
    assert events == [SlotSet("fallback_count", 2.0)]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/human_handoff", "/greet"]


async def test_handoff_after_repeated_failures_is_recorded_as_fallback():
    tracker = make_tracker("gặp người", intent="human_handoff", slots={"fallback_count": 2.0})
    await handoff.ActionHandoff().run(CollectingDispatcher(), tracker, {})
    assert handoffs.list_handoffs()[0]["reason"] == "fallback"


@pytest.mark.parametrize("moment,working", [
    (dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ), True),     # Tuesday morning
    (dt.datetime(2026, 11, 24, 12, 0, tzinfo=TZ), False),   # lunch break
    (dt.datetime(2026, 11, 28, 9, 0, tzinfo=TZ), False),    # Saturday
    (dt.datetime(2026, 11, 24, 17, 0, tzinfo=TZ), False),   # closing time
])
def test_working_time(moment, working):
    assert is_working_time(moment) is working


def test_next_opening_after_friday_evening_is_monday_morning():
    friday_evening = dt.datetime(2026, 11, 27, 18, 0, tzinfo=TZ)
    assert next_opening(friday_evening) == dt.datetime(2026, 11, 30, 8, 0, tzinfo=TZ)
    assert describe_next_opening(friday_evening) == "từ 8:00 thứ Hai (30/11)"
    assert describe_next_opening(dt.datetime(2026, 11, 24, 12, 0, tzinfo=TZ)) == "từ 13:30 hôm nay"
    assert describe_next_opening(dt.datetime(2026, 11, 24, 9, 0, tzinfo=TZ)) == "trong ít phút tới"


def test_holiday_is_skipped():
    holiday = dt.date(2026, 12, 1)
    monday_evening = dt.datetime(2026, 11, 30, 18, 0, tzinfo=TZ)
    assert next_opening(monday_evening, [holiday]) == dt.datetime(2026, 12, 2, 8, 0, tzinfo=TZ)


async def test_handoff_during_a_form_ends_the_form():
    from rasa_sdk.events import ActiveLoop

    tracker = make_tracker("cho gặp cán bộ", intent="human_handoff", active_loop="dossier_form")
    events = await handoff.ActionHandoff().run(CollectingDispatcher(), tracker, {})
    assert events == [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("fallback_count", 0.0),
                      ConversationPaused()]


async def test_resume_posts_resume_then_listen_to_rasa():
    """The officer's resume reaches Rasa's tracker API over real HTTP, followed by action_listen."""
    from aiohttp import web

    received = []

    async def events(request):
        received.append((request.match_info["sender"], await request.json()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/conversations/{sender}/tracker/events", events)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        status = await handoffs.resume_conversation(f"http://127.0.0.1:{port}", "citizen-9")
    finally:
        await runner.cleanup()
    assert status == 200
    assert received == [("citizen-9", [{"event": "resume"}, {"event": "action", "name": "action_listen"}])]


async def test_out_of_hours_handoff_offers_a_call_back_and_records_the_number(monkeypatch):
    for module in (handoff, callbacks, callback_store, messages):
        monkeypatch.setattr(module, "now_local", lambda: EVENING)
    dispatcher = CollectingDispatcher()
    events = await handoff.ActionHandoff().run(
        dispatcher, make_tracker("tối rồi, có ai tư vấn giúp mình không", intent="human_handoff"), {})
    assert events == [SlotSet("fallback_count", 0.0), SlotSet("callback_pending", True)]  # not paused
    assert "để lại số điện thoại" in dispatcher.messages[0]["text"]
    assert "từ 8:00 thứ Tư (25/11)" in dispatcher.messages[0]["text"]
    dispatcher = CollectingDispatcher()
    events = await callbacks.ActionCallbackRequest().run(
        dispatcher, make_tracker("0978 123 457, tên Lê Thị Thu, gọi sau 9h nhé", intent="inform"), {})
    assert events == [SlotSet("callback_pending", None)]
    assert dispatcher.messages[0]["text"].startswith("Dạ, tôi đã ghi nhận số 097******* (gọi sau 9h nhé)")
    rows = callback_store.list_callbacks()
    assert [(r["phone"], r["name"], r["note"]) for r in rows] == [("0978123457", "Lê Thị Thu", "gọi sau 9h nhé")]
    assert [r["reason"] for r in handoffs.list_handoffs()] == ["requested"]  # the same hand-off, refreshed


async def test_call_back_reply_states_the_ticket_promised_time(monkeypatch):
    for module in (handoff, callbacks, callback_store, messages):
        monkeypatch.setattr(module, "now_local", lambda: EVENING)
    dispatcher = CollectingDispatcher()
    await callbacks.ActionCallbackRequest().run(dispatcher, make_tracker("số mình 0978123457", intent="inform"), {})
    [ticket] = callback_store.list_open_tickets(EVENING)
    assert ticket["promised_at"] == next_opening(EVENING) == dt.datetime(2026, 11, 25, 8, 0, tzinfo=TZ)
    assert dispatcher.messages[0]["text"] == (
        "Dạ, tôi đã ghi nhận số 097*******. Cán bộ sẽ gọi lại cho anh/chị từ 8:00 thứ Tư (25/11). "
        "Trong lúc chờ, anh/chị vẫn có thể hỏi tôi về thủ tục.")
