"""Day-before reminders through a real local HTTP server standing in for Rasa; the officers' day listing."""
from __future__ import annotations

import datetime as dt
from typing import AsyncIterator, Dict, List

import pytest
from aiohttp import web

from onestop.appointments import store
from onestop.appointments.__main__ import format_day, main as cli_main
from onestop.appointments.reminders import EXTERNAL_INTENT, MESSENGER_TAG, ReminderSender
from infra.db import run_sync
from tests.appointments.conftest import vn


class RecordingRasa:
    """A tiny aiohttp server that records trigger_intent calls."""

    def __init__(self) -> None:
        self.calls: List[Dict] = []
        self.runner: web.AppRunner
        self.url = ""
        self.status = 200

    async def _trigger(self, request: web.Request) -> web.Response:
        self.calls.append({"sender": request.match_info["sender"], "query": dict(request.query),
                           "body": await request.json()})
        return web.json_response({"tracker": {}, "messages": []}, status=self.status)

    async def start(self) -> None:
        """Listen on a free local port."""
        app = web.Application()
        app.router.add_post("/conversations/{sender}/trigger_intent", self._trigger)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture
async def rasa() -> AsyncIterator[RecordingRasa]:
    server = RecordingRasa()
    await server.start()
    yield server
    await server.runner.cleanup()


def _book(url: str, slot: dt.datetime, channel: str, sender: str, now: dt.datetime, phone: str = "0912345678"):
    res = store.book("phuong_ba_dinh", slot, "Trần Thị B", phone, channel=channel, sender_id=sender,
                     now=now, url=url)
    assert res.ok
    return res.booking


async def test_reminder_sent_once(sqlite_url: str, rasa: RecordingRasa) -> None:
    booked_at = vn(2027, 3, 1, 9, 0)
    b = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 2, 9, 0), "facebook", "fb user/1", booked_at))
    other_day = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 3, 9, 0), "facebook", "fb2", booked_at))
    sender = ReminderSender(rasa.url, url=sqlite_url)
    outcomes = await sender.run_once(vn(2027, 3, 1, 18, 0))
    assert [(o.code, o.result, o.channel_tag) for o in outcomes] == [(b.code, store.REMINDER_SENT, None)]
    assert rasa.calls == [{"sender": "fb user/1", "query": {"output_channel": "latest"},
                           "body": {"name": EXTERNAL_INTENT, "entities": {"booking_code": b.code}}}]
    assert await sender.run_once(vn(2027, 3, 1, 19, 0)) == []
    assert len(rasa.calls) == 1
    assert (await run_sync(store.get_booking, b.code, sqlite_url)).reminder_status == store.REMINDER_SENT
    assert (await run_sync(store.get_booking, other_day.code, sqlite_url)).reminder_status == store.REMINDER_PENDING


async def test_outside_window(sqlite_url: str, rasa: RecordingRasa) -> None:
    booked_at = vn(2027, 2, 22, 9, 0)  # 8 days before the reminder: outside Messenger's 24 h and Zalo's 7 days
    fb = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 3, 9, 0), "facebook", "fb", booked_at))
    zalo = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 3, 9, 0), "zalo", "za", booked_at, "0987654321"))
    sender = ReminderSender(rasa.url, url=sqlite_url)
    outcomes = {o.code: o for o in await sender.run_once(vn(2027, 3, 2, 18, 0))}
    assert outcomes[fb.code].result == store.REMINDER_SENT and outcomes[fb.code].channel_tag == MESSENGER_TAG
    assert outcomes[zalo.code].result == store.REMINDER_NOT_SENT_WINDOW
    assert [c["sender"] for c in rasa.calls] == ["fb"]
    assert rasa.calls[0]["body"] == {"name": "EXTERNAL_appointment_reminder", "entities": {"booking_code": fb.code}}
    fb_row = await run_sync(store.get_booking, fb.code, sqlite_url)
    zalo_row = await run_sync(store.get_booking, zalo.code, sqlite_url)
    assert fb_row.reminder_channel_tag == MESSENGER_TAG
    assert zalo_row.reminder_status == store.REMINDER_NOT_SENT_WINDOW
    assert await sender.run_once(vn(2027, 3, 2, 19, 0)) == [] and len(rasa.calls) == 1


async def test_zalo_inside_window_after_user_wrote(sqlite_url: str, rasa: RecordingRasa) -> None:
    zalo = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 3, 9, 0), "zalo", "za", vn(2027, 2, 22, 9, 0)))
    await run_sync(store.touch_user, "za", vn(2027, 3, 1, 20, 0), sqlite_url)
    outcomes = await ReminderSender(rasa.url, url=sqlite_url).run_once(vn(2027, 3, 2, 18, 0))
    assert [(o.code, o.result) for o in outcomes] == [(zalo.code, store.REMINDER_SENT)]
    assert len(rasa.calls) == 1


async def test_moved_booking_is_reminded_for_the_new_day(sqlite_url: str, rasa: RecordingRasa) -> None:
    now = vn(2027, 3, 1, 9, 0)
    b = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 2, 9, 0), "rest", "r1", now))
    sender = ReminderSender(rasa.url, url=sqlite_url)
    assert len(await sender.run_once(vn(2027, 3, 1, 18, 0))) == 1
    moved = await run_sync(lambda: store.move(b.code, "0912345678", vn(2027, 3, 4, 9, 0), now=now, url=sqlite_url))
    assert moved.ok and moved.booking.reminder_status == store.REMINDER_PENDING
    assert len(await sender.run_once(vn(2027, 3, 3, 18, 0))) == 1 and len(rasa.calls) == 2


async def test_failed_send_is_not_retried(sqlite_url: str, rasa: RecordingRasa) -> None:
    b = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 2, 9, 0), "rest", "r1", vn(2027, 3, 1, 9, 0)))
    rasa.status = 500
    sender = ReminderSender(rasa.url, url=sqlite_url)
    outcomes = await sender.run_once(vn(2027, 3, 1, 18, 0))
    assert [(o.code, o.result) for o in outcomes] == [(b.code, store.REMINDER_FAILED)]
    assert await sender.run_once(vn(2027, 3, 1, 19, 0)) == [] and len(rasa.calls) == 1


async def test_rasa_unreachable_is_retried_later(sqlite_url: str, rasa: RecordingRasa) -> None:
    b = await run_sync(lambda: _book(sqlite_url, vn(2027, 3, 2, 9, 0), "rest", "r1", vn(2027, 3, 1, 9, 0)))
    await rasa.runner.cleanup()  # nothing listens any more: the reminder surely was not delivered
    down = ReminderSender(rasa.url, url=sqlite_url)
    outcomes = await down.run_once(vn(2027, 3, 1, 18, 0))
    assert outcomes[0].code == b.code and outcomes[0].result.startswith("retry")
    assert (await run_sync(store.get_booking, b.code, sqlite_url)).reminder_status == store.REMINDER_PENDING
    up = RecordingRasa()
    await up.start()
    try:
        outcomes = await ReminderSender(up.url, url=sqlite_url).run_once(vn(2027, 3, 1, 19, 0))
        assert [o.result for o in outcomes] == [store.REMINDER_SENT] and len(up.calls) == 1
    finally:
        await up.runner.cleanup()


def test_officer_day_listing_masks_phones(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture) -> None:
    now = vn(2027, 3, 1, 9, 0)
    a = _book(sqlite_url, vn(2027, 3, 2, 14, 0), "zalo", "z1", now, "0912345678")
    b = _book(sqlite_url, vn(2027, 3, 2, 8, 0), "facebook", "f1", now, "0987654321")
    _book(sqlite_url, vn(2027, 3, 3, 8, 0), "facebook", "f2", now, "0977777777")
    lines = format_day("phuong_ba_dinh", dt.date(2027, 3, 2), sqlite_url)
    assert lines[1].startswith("08:00\t" + b.code) and lines[2].startswith("14:00\t" + a.code)
    assert len(lines) == 3
    text = "\n".join(lines)
    assert "098*******" in text and "091*******" in text
    assert "0987654321" not in text and "0912345678" not in text
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert cli_main(["day", "phuong_ba_dinh", "2027-03-02"]) == 0
    out = capsys.readouterr().out
    assert b.code in out and "098*******" in out and "0987654321" not in out
    with pytest.raises(SystemExit):
        cli_main(["day", "no_such_office", "2027-03-02"])
