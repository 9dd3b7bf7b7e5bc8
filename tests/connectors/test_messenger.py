"""Messenger channel over real HTTP: webhook in (Sanic), Send API out (fake Graph)."""
from __future__ import annotations

import asyncio
import copy
import logging
import time
from typing import Any, AsyncIterator, Dict, List, Tuple

import aiohttp
import pytest

from connectors import http
from connectors.config import ConnectorConfigError
from connectors.messenger import MessengerInput, MessengerOutput
from infra.masking import user_ref
from tests.connectors.conftest import BotStub, echo_channel, fast_policy, post, wait_for, with_signature
from tests.fakes.fake_messenger import FakeMessenger, load_fixture, signed_messenger_request

APP_SECRET = "test-app-secret"
VERIFY = "verify-me"
USER = "6543210987654321"


PAGE_TOKEN = FakeMessenger().page_token  # the shared ``messenger`` fake's (tests/connectors/conftest.py)


def make_output(messenger: FakeMessenger) -> MessengerOutput:
    """An output wired to the fake Send API with fast retries."""
    return MessengerOutput(PAGE_TOKEN, messenger.base_url, "v21.0", fast_policy())


@pytest.fixture
async def running(messenger: FakeMessenger) -> AsyncIterator[Tuple[MessengerInput, BotStub, str]]:
    """(channel, bot stub answering "Đã nhận: <text>", webhook URL)."""
    channel = MessengerInput(PAGE_TOKEN, APP_SECRET, VERIFY, graph_base=messenger.base_url, policy=fast_policy())
    async with echo_channel(channel) as served:
        yield served


async def deliver(url: str, delivery: Any) -> int:
    """POST a signed delivery; returns the HTTP status."""
    raw, headers = signed_messenger_request(delivery, APP_SECRET)
    return (await post(url, raw, headers)).status


def texts(messenger: FakeMessenger) -> List[str]:
    """Texts of delivered messages."""
    return [r["body"]["message"].get("text", "") for r in messenger.delivered]


@pytest.mark.parametrize("params,status,body", [
    ({"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 200, "1158201444"),
    ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"}, 403, None),
    ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"}, 403, None),
    ({}, 403, None),
])
async def test_verification_handshake(running: Any, params: Dict[str, str], status: int, body: Any) -> None:
    channel, bot, url = running
    async with aiohttp.ClientSession() as session:
        async with session.get(url, params=params) as resp:
            assert resp.status == status
            if body is not None:
                assert await resp.text() == body


async def test_text_reaches_bot_with_typing_indicator_first(running: Any, messenger: FakeMessenger) -> None:
    channel, bot, url = running
    assert await deliver(url, "text") == 200
    await wait_for(lambda: len(messenger.delivered) == 1)
    assert bot.texts == ["lam giay khai sinh can gi vay ad"]
    assert bot.messages[0].sender_id == USER and bot.messages[0].input_channel == "messenger"
    sent = messenger.delivered[0]
    assert sent["token"] == PAGE_TOKEN
    assert sent["body"]["recipient"] == {"id": USER} and sent["body"]["messaging_type"] == "RESPONSE"
    assert sent["body"]["message"]["text"] == "Đã nhận: lam giay khai sinh can gi vay ad"


async def test_typing_on_is_sent_before_the_reply(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    await output.send_response(USER, {"text": "xin chào"})
    assert [a["body"]["sender_action"] for a in messenger.actions] == ["typing_on"]
    assert messenger.actions[0]["time"] <= messenger.delivered[0]["time"]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", ""])
async def test_missing_or_wrong_signature_is_403_and_not_processed(running: Any, messenger: FakeMessenger,
                                                                   signature: Any) -> None:
    channel, bot, url = running
    raw, headers = signed_messenger_request("text", APP_SECRET)
    assert (await post(url, raw, with_signature(headers, "X-Hub-Signature-256", signature))).status == 403
    raw2, headers2 = signed_messenger_request("text", "another-secret")
    assert (await post(url, raw2, headers2)).status == 403
    await asyncio.sleep(0.05)
    assert bot.messages == [] and messenger.sends == []


async def test_redelivered_mid_is_processed_once(running: Any, messenger: FakeMessenger) -> None:
    channel, bot, url = running
    for _ in range(3):
        assert await deliver(url, "text") == 200
    await channel.queue.drain(5)
    assert len(bot.messages) == 1 and len(messenger.delivered) == 1


async def test_batched_delivery_of_two_users_is_processed_fully(running: Any, messenger: FakeMessenger) -> None:
    channel, bot, url = running
    batch = load_fixture("batched_two_users")
    # A second item in the first entry too: every entry and every item must be handled.
    extra = copy.deepcopy(batch["entry"][0]["messaging"][0])
    extra["message"] = {"mid": "m_Batch0000003", "text": "cảm ơn"}
    batch["entry"][0]["messaging"].append(extra)
    assert await deliver(url, batch) == 200
    await channel.queue.drain(5)
    assert sorted(bot.texts) == sorted(["xin chào", "đặt lịch hẹn làm căn cước", "cảm ơn"])
    assert {r["body"]["recipient"]["id"] for r in messenger.delivered} == {USER, "7777777777777777"}
    first_user = [m.text for m in bot.messages if m.sender_id == USER]
    assert first_user == ["xin chào", "cảm ơn"]


@pytest.mark.parametrize("fixture", ["standby", "echo", "delivery_and_read"])
async def test_standby_echo_delivery_read_are_ignored_without_crash(running: Any, messenger: FakeMessenger,
                                                                    fixture: str) -> None:
    channel, bot, url = running
    assert await deliver(url, fixture) == 200
    changes = {"object": "page", "entry": [{"id": "1", "time": 1, "changes": [{"field": "feed"}]}]}
    assert await deliver(url, changes) == 200
    await channel.queue.drain(5)
    assert bot.messages == [] and messenger.sends == []


async def test_quick_reply_and_postback_payloads_go_to_the_bot(running: Any) -> None:
    channel, bot, url = running
    assert await deliver(url, "quick_reply") == 200
    assert await deliver(url, "postback") == 200
    await channel.queue.drain(5)
    assert bot.texts == ['/ask_procedure{"aspect":"fee"}', "/book_appointment"]


async def test_a_postback_without_mid_is_processed_once_and_logged_without_the_user_id(
        running: Any, caplog: pytest.LogCaptureFixture) -> None:
    channel, bot, url = running
    caplog.set_level(logging.DEBUG)
    delivery = load_fixture("postback")
    del delivery["entry"][0]["messaging"][0]["postback"]["mid"]
    for _ in range(2):
        assert await deliver(url, delivery) == 200
    await channel.queue.drain(5)
    assert bot.texts == ["/book_appointment"]
    assert "redelivery" in caplog.text and USER not in caplog.text and user_ref(USER) in caplog.text


@pytest.mark.parametrize("fixture", ["sticker", "image"])
async def test_sticker_and_image_get_helpful_reply(running: Any, messenger: FakeMessenger, fixture: str) -> None:
    channel, bot, url = running
    assert await deliver(url, fixture) == 200
    await wait_for(lambda: len(messenger.delivered) == 1)
    assert "chỉ đọc được tin nhắn chữ" in texts(messenger)[0]
    assert ("nhãn dán" in texts(messenger)[0]) == (fixture == "sticker")
    assert bot.messages == []


async def test_location_attachment_goes_to_the_bot_as_share_location(running: Any, messenger: FakeMessenger) -> None:
    channel, bot, url = running
    delivery = load_fixture("image")
    delivery["entry"][0]["messaging"][0]["message"] = {"mid": "m_Loc1", "attachments": [
        {"type": "location", "payload": {"coordinates": {"lat": 21.0330, "long": 105.7905}}}]}
    assert await deliver(url, delivery) == 200
    await wait_for(lambda: len(bot.messages) == 1)
    assert bot.texts == ['/share_location{"latitude": "21.033000", "longitude": "105.790500"}']


async def test_an_event_update_notification_is_sent_with_its_message_tag(running: Any,
                                                                       messenger: FakeMessenger) -> None:
    channel, bot, url = running
    await channel.output.send_custom_json("user-9", {"notification": "confirmed_event_update",
                                                     "text": "Nhắc lịch: 09:00 ngày mai."})
    body = messenger.delivered[-1]["body"]
    assert body["messaging_type"] == "MESSAGE_TAG" and body["tag"] == "CONFIRMED_EVENT_UPDATE"
    assert body["message"] == {"text": "Nhắc lịch: 09:00 ngày mai."}


async def test_webhook_answers_before_a_slow_turn(running: Any, messenger: FakeMessenger) -> None:
    channel, bot, url = running
    bot.delays["lam giay khai sinh can gi vay ad"] = 0.8
    started = time.monotonic()
    assert await deliver(url, "text") == 200
    assert time.monotonic() - started < 0.5 and messenger.delivered == []
    await wait_for(lambda: len(messenger.delivered) == 1, 5)


async def test_burst_of_one_user_is_handled_in_order(running: Any, messenger: FakeMessenger) -> None:
    channel, bot, url = running
    bot.delays["tin 0"] = 0.3
    base = load_fixture("text")
    for i in range(5):
        d = copy.deepcopy(base)
        d["entry"][0]["messaging"][0]["message"] = {"mid": f"m_burst{i}", "text": f"tin {i}"}
        assert await deliver(url, d) == 200
    await channel.queue.drain(5)
    assert bot.finished == [f"tin {i}" for i in range(5)]
    assert texts(messenger) == [f"Đã nhận: tin {i}" for i in range(5)]


async def test_long_text_is_split_without_loss(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    step = "nộp tờ khai tại bộ phận một cửa và nhận giấy hẹn trả kết quả."
    text = " ".join(f"Bước {i}: {step}" for i in range(80))
    await output.send_text_message(USER, text)
    parts = texts(messenger)
    assert len(parts) >= 3 and all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == text.split()


async def test_three_buttons_use_the_button_template(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    buttons = [{"title": "Đặt lịch hẹn làm căn cước", "payload": "/book_appointment"},
               {"title": "Tra cứu", "payload": "/track_dossier"},
               {"title": "Cổng DVC", "url": "https://dichvucong.gov.vn"}]
    await output.send_text_with_buttons(USER, "Bạn cần gì?", buttons)
    payload = messenger.delivered[0]["body"]["message"]["attachment"]["payload"]
    assert payload["template_type"] == "button" and payload["text"] == "Bạn cần gì?"
    assert payload["buttons"][0] == {"type": "postback", "title": "Đặt lịch hẹn làm…",
                                     "payload": "/book_appointment"}
    assert payload["buttons"][2] == {"type": "web_url", "url": "https://dichvucong.gov.vn",
                                     "title": "Cổng DVC"}


async def test_more_than_thirteen_quick_replies_are_not_dropped(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    buttons = [{"title": f"Thủ tục hành chính số {i}", "payload": f"/ask_procedure{{\"id\":{i}}}"}
               for i in range(20)]
    await output.send_text_with_buttons(USER, "Chọn thủ tục:", buttons)
    messages = [r["body"]["message"] for r in messenger.delivered]
    assert [len(m["quick_replies"]) for m in messages] == [13, 7]
    assert messages[0]["text"] == "Chọn thủ tục:"
    replies = [q for m in messages for q in m["quick_replies"]]
    assert [q["payload"] for q in replies] == [b["payload"] for b in buttons]
    assert all(len(q["title"]) <= 20 for q in replies)
    assert replies[0]["title"].endswith("…")


async def test_rate_limit_then_success_is_retried(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    messenger.fail_next("rate_limit", "rate_limit_app", "http500")
    await output.send_text_message(USER, "xin chào")
    assert len(messenger.sends) == 4 and len(messenger.delivered) == 1 and output.failures == []


@pytest.mark.parametrize("mode,code", [("bad_token", "190"), ("unavailable", "551"),
                                       ("outside_window", "10/2018278")])
async def test_permanent_errors_are_recorded_not_retried(messenger: FakeMessenger, mode: str, code: str) -> None:
    output = make_output(messenger)
    before = http.FAILURES[("messenger", code)]
    messenger.fail_next(mode)
    await output.send_text_message(USER, "nhắc lịch hẹn")
    assert len(messenger.sends) == 1 and messenger.delivered == []
    assert http.FAILURES[("messenger", code)] == before + 1 and output.failures[-1]["code"] == code


@pytest.mark.parametrize("mode", ["outside_window", "unavailable"])
async def test_refused_message_is_kept_for_the_next_user_message(running: Any, messenger: FakeMessenger,
                                                                 mode: str) -> None:
    channel, bot, url = running
    messenger.fail_next(mode)
    await channel.output.send_text_message(USER, "Nhắc lịch hẹn ngày mai.")
    messenger.fail_next("bad_token")  # about the page, not the user: recorded, not kept
    await channel.output.send_text_message(USER, "Không giữ lại.")
    assert await deliver(url, "text") == 200
    await channel.queue.drain(5)
    assert texts(messenger) == ["Nhắc lịch hẹn ngày mai.", "Đã nhận: lam giay khai sinh can gi vay ad"]
    assert all(r["body"]["messaging_type"] == "RESPONSE" for r in messenger.delivered)


def test_from_credentials_refuses_to_start_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in MessengerInput.REQUIRED:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConnectorConfigError, match="MESSENGER_APP_SECRET"):
        MessengerInput.from_credentials({"page_access_token": "x",
                                         "verify_token": "${MESSENGER_VERIFY_TOKEN}"})
    monkeypatch.setenv("MESSENGER_PAGE_TOKEN", "p")
    monkeypatch.setenv("MESSENGER_APP_SECRET", "s")
    monkeypatch.setenv("MESSENGER_VERIFY_TOKEN", "v")
    channel = MessengerInput.from_credentials({})
    assert channel.output.url == "https://graph.facebook.com/v21.0/me/messages"


async def test_link_buttons_beside_many_choices_are_sent_as_text(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    buttons = [{"title": f"Lựa chọn {i}", "payload": f"/choose{{\"i\":{i}}}"} for i in range(4)]
    buttons.append({"title": "Cổng dịch vụ công", "url": "https://dichvucong.gov.vn"})
    await output.send_text_with_buttons(USER, "Bạn chọn gì?", buttons)
    messages = [r["body"]["message"] for r in messenger.delivered]
    assert messages[0] == {"text": "Cổng dịch vụ công: https://dichvucong.gov.vn"}
    assert messages[1]["text"] == "Bạn chọn gì?" and len(messages[1]["quick_replies"]) == 4


async def test_long_text_with_few_buttons_falls_back_to_quick_replies(messenger: FakeMessenger) -> None:
    output = make_output(messenger)
    text = "Hướng dẫn chi tiết. " * 40  # over the 640-character limit of the button template
    await output.send_text_with_buttons(USER, text, [{"title": "Đặt lịch", "payload": "/book_appointment"}])
    message = messenger.delivered[-1]["body"]["message"]
    assert "attachment" not in message and message["quick_replies"][0]["payload"] == "/book_appointment"
    assert " ".join(texts(messenger)).split() == text.split()
