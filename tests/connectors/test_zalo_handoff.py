"""An officer's Zalo take-over and its end in the staff console, on a real SQLite hand-off table: the channel's own
pause (set when the officer answered from the OA manager) ends when the hand-off is closed, whoever closed it."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, AsyncIterator, Tuple

import pytest

from connectors.turns import TURNS
from connectors.zalo import ZaloInput
from infra import db
from onestop import handoffs
from tests.connectors.conftest import BotStub, echo_channel, fast_policy, post, serving
from tests.fakes.fake_zalo import FakeZalo, load_fixture, signed_zalo_request

APP_ID = "2553928453557884079"  # the fixtures' app_id
OA_SECRET = "handoff-oa-secret"
APP_SECRET = "handoff-app-secret"
USER = "6142494823718830912"  # the user of the fixtures' text and officer echo


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Tuple[ZaloInput, BotStub, str, FakeZalo]]:
    """A Zalo channel with the real hand-off recorder and check (APP_DB_PATH: tests/connectors/conftest.py)."""
    async with serving(FakeZalo(APP_ID, APP_SECRET)) as fake:
        channel = ZaloInput(APP_ID, OA_SECRET, "at-0", "rt-0", APP_SECRET, api_base=fake.base_url,
                            oauth_base=fake.base_url, policy=fast_policy(), token_file=tmp_path / "tokens.json")
        async with echo_channel(channel) as (channel, bot, url):
            yield channel, bot, url, fake


async def send(url: str, event: Any, channel: ZaloInput) -> None:
    """POST a signed event and wait until its turn (if any) has run."""
    raw, headers = signed_zalo_request(event, OA_SECRET)
    assert (await post(url, raw, headers)).status == 200
    await channel.queue.drain(5)


def text(msg_id: str, words: str) -> dict:
    """A user_send_text event of USER."""
    return dict(load_fixture("user_send_text"), message={"msg_id": msg_id, "text": words})


async def paused(channel: ZaloInput) -> bool:
    """Whether the channel's pause marker is set for USER (read on the turn loop, where the store lives)."""
    return await TURNS.run(channel.paused.is_set(USER))


async def test_closing_the_handoff_in_the_console_resumes_the_bot_on_zalo(running: Any) -> None:
    channel, bot, url, fake = running
    await send(url, "oa_send_text_echo_officer", channel)
    assert [(h["sender_id"], h["channel"], h["status"]) for h in handoffs.list_handoffs()] == [
        (USER, "zalo", "waiting")]
    await send(url, text("h-1", "anh ơi cho em hỏi thêm"), channel)
    assert bot.texts == [] and fake.delivered == []  # the officer's to answer
    assert handoffs.set_status(USER, "taken", "can_bo_1") == 1  # the officer takes it in the console: still paused
    await send(url, text("h-2", "em cảm ơn"), channel)
    assert bot.texts == [] and await paused(channel)

    assert handoffs.set_status(USER, "closed") == 1  # what the console's "give back" does after Rasa resumed
    await send(url, text("h-3", "cho em hỏi làm căn cước"), channel)
    assert bot.texts == ["cho em hỏi làm căn cước"]
    assert [r["body"]["message"]["text"] for r in fake.delivered] == ["Đã nhận: cho em hỏi làm căn cước"]
    assert not await paused(channel)


async def test_an_officer_writing_again_after_closing_opens_a_new_handoff(running: Any) -> None:
    channel, bot, url, fake = running
    await send(url, "oa_send_text_echo_officer", channel)
    handoffs.set_status(USER, "closed")
    await send(url, dict(load_fixture("oa_send_text_echo_officer"), timestamp="1764748800999"), channel)
    assert [h["status"] for h in handoffs.list_handoffs(include_closed=True)] == ["waiting", "closed"]
    await send(url, text("h-4", "vâng ạ"), channel)
    assert bot.texts == [] and await paused(channel)


async def test_a_database_error_keeps_the_pause(running: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    channel, bot, url, fake = running
    await send(url, "oa_send_text_echo_officer", channel)
    handoffs.set_status(USER, "closed")
    (tmp_path / "not-a-folder").write_text("x")
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "not-a-folder" / "app.sqlite"))  # cannot be opened
    db.dispose_all()
    caplog.set_level(logging.INFO, logger="connectors.zalo")
    await send(url, text("h-5", "có ai không ạ"), channel)
    assert bot.texts == [] and await paused(channel)
    assert "could not check the hand-off" in caplog.text and USER not in caplog.text
