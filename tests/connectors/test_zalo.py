"""Zalo OA channel over real HTTP: webhook in (Sanic), Send API and token refresh out (fake Zalo)."""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Tuple

import pytest

from connectors import http
from connectors.config import ConnectorConfigError
from connectors.zalo import ZaloInput, ZaloOutput
from connectors.zalo_tokens import FileTokenStore, TokenPair, ZaloTokenManager
from infra.masking import user_ref
from tests.connectors.conftest import (BotStub, echo_channel, fast_policy, post, serve_channel, serving, wait_for,
                                      with_signature)
from tests.fakes.fake_zalo import FakeZalo, load_fixture, signed_zalo_request

APP_ID = "2553928453557884079"  # the fixtures' app_id
OA_SECRET = "test-oa-secret"
APP_SECRET = "test-app-secret"
USER = "6142494823718830912"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    """A running fake Zalo (Send API + OAuth)."""
    async with serving(FakeZalo(APP_ID, APP_SECRET, access_token="at-0", refresh_token="rt-0")) as server:
        yield server


def make_channel(fake: FakeZalo, tmp_path: Path, redis_url: str = "", **kwargs: Any) -> ZaloInput:
    """A ZaloInput wired to the fake, with fast retries and a temporary token file."""
    return ZaloInput(APP_ID, OA_SECRET, "at-0", "rt-0", APP_SECRET, api_base=fake.base_url,
                     oauth_base=fake.base_url, redis_url=redis_url, policy=fast_policy(),
                     token_file=tmp_path / "tokens.json", **kwargs)


@pytest.fixture
async def running(fake: FakeZalo, tmp_path: Path) -> AsyncIterator[Tuple[ZaloInput, BotStub, str]]:
    """(channel, bot stub answering "Đã nhận: <text>", webhook URL); hand-offs recorded in a list (open)."""
    handoffs: list = []
    channel = make_channel(fake, tmp_path, handoff_recorder=lambda *a: handoffs.append(a),
                           handoff_check=lambda user: any(h[0] == user for h in handoffs))
    channel.recorded_handoffs = handoffs  # type: ignore[attr-defined]
    async with echo_channel(channel) as served:
        yield served


def texts_sent(fake: FakeZalo) -> list:
    """Texts of the successfully delivered messages."""
    return [r["body"]["message"].get("text", "") for r in fake.delivered]


async def send_event(url: str, event: Any, **overrides: Any) -> int:
    """POST a signed event; returns the HTTP status."""
    raw, headers = signed_zalo_request(event, OA_SECRET, **overrides)
    return (await post(url, raw, headers)).status


async def test_signed_text_reaches_bot_and_reply_is_sent(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    assert await send_event(url, "user_send_text") == 200
    await wait_for(lambda: len(fake.delivered) == 1)
    msg = bot.messages[0]
    assert msg.text == load_fixture("user_send_text")["message"]["text"]
    assert msg.sender_id == USER and isinstance(msg.sender_id, str)
    assert msg.input_channel == "zalo" and msg.metadata["msg_id"] == "cb31dff1c39642cc1b83"
    sent = fake.delivered[0]
    assert sent["token"] == "at-0"
    assert sent["body"]["recipient"] == {"user_id": USER}
    assert sent["body"]["message"]["text"].startswith("Đã nhận: cho em hỏi")


async def test_signature_without_mac_prefix_is_accepted(running: Any) -> None:
    channel, bot, url = running
    raw, headers = signed_zalo_request("user_send_text_unaccented", OA_SECRET)
    headers["X-ZEvent-Signature"] = headers["X-ZEvent-Signature"][len("mac="):]
    assert (await post(url, raw, headers)).status == 200
    await wait_for(lambda: len(bot.messages) == 1)


@pytest.mark.parametrize("signature", [None, "mac=" + "0" * 64, "mac=deadbeef", ""])
async def test_missing_or_wrong_signature_is_403_and_not_processed(running: Any, fake: FakeZalo,
                                                                   signature: Any) -> None:
    channel, bot, url = running
    raw, headers = signed_zalo_request("user_send_text", OA_SECRET)
    assert (await post(url, raw, with_signature(headers, "X-ZEvent-Signature", signature))).status == 403
    # A body changed after signing must fail too.
    raw2, headers2 = signed_zalo_request("user_send_text", OA_SECRET)
    assert (await post(url, raw2.replace(b"con", b"cha"), headers2)).status == 403
    await asyncio.sleep(0.05)
    assert bot.messages == [] and fake.sends == []


async def test_redelivery_is_processed_once(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    for _ in range(3):
        assert await send_event(url, "user_send_text") == 200
    await channel.queue.drain(5)
    assert len(bot.messages) == 1 and len(fake.delivered) == 1


@pytest.mark.parametrize("fixture", ["user_send_image", "user_send_sticker"])
async def test_image_and_sticker_get_helpful_text_only_reply(running: Any, fake: FakeZalo,
                                                             fixture: str) -> None:
    channel, bot, url = running
    assert await send_event(url, fixture) == 200
    await wait_for(lambda: len(fake.delivered) == 1)
    reply = texts_sent(fake)[0]
    assert "chỉ đọc được tin nhắn chữ" in reply and "gõ" in reply
    assert bot.messages == []


async def test_location_goes_to_the_bot_as_share_location(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    assert await send_event(url, "user_send_location") == 200
    await wait_for(lambda: len(bot.messages) == 1)
    assert bot.texts == ['/share_location{"latitude": "21.036800", "longitude": "105.834200"}']


async def test_follow_welcomes_and_unfollow_seen_echo_are_ignored(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    for fixture in ("unfollow", "user_seen_message", "oa_send_text_echo_bot", "user_submit_info", "follow"):
        assert await send_event(url, fixture) == 200
    await wait_for(lambda: len(fake.delivered) == 1)
    await channel.queue.drain(5)
    assert bot.texts == ["/greet"]
    assert bot.messages[0].sender_id == "8817264530019283746"
    assert channel.recorded_handoffs == []


async def test_officer_echo_pauses_the_bot_for_that_user(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    assert await send_event(url, "oa_send_text_echo_officer") == 200
    await channel.queue.drain(5)
    assert channel.recorded_handoffs == [(USER, "zalo", "officer_reply", None)]
    assert await send_event(url, "user_send_text") == 200
    other = dict(load_fixture("user_send_text"), sender={"id": "1111111111111111111"},
                 message={"msg_id": "other-1", "text": "xin chào"})
    assert await send_event(url, other) == 200
    await channel.queue.drain(5)
    assert bot.texts == ["xin chào"]  # only the other user reached the bot
    assert [r["body"]["recipient"]["user_id"] for r in fake.delivered] == ["1111111111111111111"]


async def test_webhook_answers_before_a_slow_turn_finishes(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    text = load_fixture("user_send_text")["message"]["text"]
    bot.delays[text] = 0.8
    started = time.monotonic()
    assert await send_event(url, "user_send_text") == 200
    assert time.monotonic() - started < 0.5
    assert fake.delivered == []
    await wait_for(lambda: len(fake.delivered) == 1, 5)


async def test_burst_of_one_user_is_handled_in_order(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    base = load_fixture("user_send_text")
    bot.delays["tin 0"] = 0.4
    for i in range(5):
        assert await send_event(url, dict(base, message={"msg_id": f"burst-{i}", "text": f"tin {i}"})) == 200
    other = dict(base, sender={"id": "2222222222222222222"}, message={"msg_id": "o-1", "text": "người khác"})
    assert await send_event(url, other) == 200
    await wait_for(lambda: "người khác" in bot.finished, 2)
    assert "tin 0" not in bot.finished  # the other user did not wait for the slow turn
    await channel.queue.drain(5)
    assert [t for t in bot.finished if t.startswith("tin")] == [f"tin {i}" for i in range(5)]
    user_texts = [t for r, t in zip(fake.delivered, texts_sent(fake))
                  if r["body"]["recipient"]["user_id"] == USER]
    assert user_texts == [f"Đã nhận: tin {i}" for i in range(5)]


async def test_long_answer_is_split_without_losing_text(fake: FakeZalo, tmp_path: Path) -> None:
    output = make_channel(fake, tmp_path).output
    sentence = "Công dân mang theo giấy khai sinh bản chính và sổ hộ khẩu điện tử của gia đình. "
    text = "".join(f"{i}. {sentence}" for i in range(60))
    await output.send_text_message(USER, text)
    parts = texts_sent(fake)
    assert len(parts) >= 3 and all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == text.split()


async def test_more_than_five_buttons_are_not_dropped(fake: FakeZalo, tmp_path: Path) -> None:
    output = make_channel(fake, tmp_path).output
    buttons = [{"title": f"Thủ tục {i}", "payload": f"/ask_procedure{{\"id\":{i}}}"} for i in range(11)]
    buttons.append({"title": "Cổng dịch vụ công", "url": "https://dichvucong.gov.vn"})
    await output.send_text_with_buttons(USER, "Bạn muốn hỏi thủ tục nào?", buttons)
    messages = [r["body"]["message"] for r in fake.delivered]
    groups = [m["attachment"]["payload"]["buttons"] for m in messages]
    assert [len(g) for g in groups] == [5, 5, 2]
    flat = [b for g in groups for b in g]
    assert [b["title"] for b in flat] == [b["title"] for b in buttons]
    assert flat[0] == {"title": "Thủ tục 0", "type": "oa.query.show", "payload": "/ask_procedure{\"id\":0}"}
    assert flat[-1] == {"title": "Cổng dịch vụ công", "type": "oa.open.url",
                        "payload": {"url": "https://dichvucong.gov.vn"}}
    assert messages[0]["text"] == "Bạn muốn hỏi thủ tục nào?"


async def test_rate_limit_and_5xx_are_retried_then_succeed(fake: FakeZalo, tmp_path: Path) -> None:
    output = make_channel(fake, tmp_path).output
    fake.fail_next("rate_limit", "http500")
    await output.send_text_message(USER, "xin chào")
    assert len(fake.sends) == 3 and len(fake.delivered) == 1
    assert output.failures == []


async def test_slow_answer_times_out_and_is_retried(fake: FakeZalo, tmp_path: Path) -> None:
    output = make_channel(fake, tmp_path).output
    output.policy = http.RetryPolicy(max_attempts=2, base_delay=0.01, timeout=0.2)
    fake.delay = 1.0
    fake.fail_next("slow")
    started = time.monotonic()
    await output.send_text_message(USER, "xin chào")
    assert time.monotonic() - started < 1.0
    assert len(fake.sends) == 2 and len(fake.delivered) >= 1


@pytest.mark.parametrize("mode,code", [("outside_window", "-230"), ("not_follower", "-213")])
async def test_permanent_error_is_recorded_not_retried(fake: FakeZalo, tmp_path: Path, mode: str,
                                                       code: str) -> None:
    output = make_channel(fake, tmp_path).output
    before = http.FAILURES[("zalo", code)]
    fake.fail_next(mode)
    await output.send_text_message(USER, "nhắc lịch hẹn")  # must not raise
    assert len(fake.sends) == 1 and fake.delivered == []
    assert http.FAILURES[("zalo", code)] == before + 1
    assert output.failures[-1]["code"] == code


async def test_refused_message_is_kept_and_sent_once_at_the_next_interaction(running: Any,
                                                                              fake: FakeZalo) -> None:
    channel, bot, url = running
    base = load_fixture("user_send_text")
    fake.fail_next("outside_window", "not_follower")  # -230, -213: about the user, not the message
    await channel.output.send_text_message(USER, "Hồ sơ của bạn đã có kết quả.")
    await channel.output.send_text_message(USER, "Mời bạn đến nhận kết quả.")
    fake.fail_next("rate_limit", "rate_limit", "rate_limit", "rate_limit")  # retried, then final: not kept
    await channel.output.send_text_message(USER, "Tin nhắn bị giới hạn.")
    assert fake.delivered == []
    assert await send_event(url, dict(base, message={"msg_id": "back-1", "text": "tôi đây"})) == 200
    await channel.queue.drain(5)
    assert texts_sent(fake) == ["Hồ sơ của bạn đã có kết quả.", "Mời bạn đến nhận kết quả.", "Đã nhận: tôi đây"]
    assert await send_event(url, dict(base, message={"msg_id": "back-2", "text": "lần nữa"})) == 200
    await channel.queue.drain(5)
    assert texts_sent(fake)[3:] == ["Đã nhận: lần nữa"]  # sent once only


async def test_a_held_message_refused_again_is_not_kept_again(running: Any, fake: FakeZalo) -> None:
    channel, bot, url = running
    base = load_fixture("user_send_text")
    fake.fail_next("outside_window")
    await channel.output.send_text_message(USER, "Nhắc lịch hẹn.")
    fake.fail_next("outside_window")  # the re-send fails too: recorded, never looped on
    assert await send_event(url, dict(base, message={"msg_id": "again-1", "text": "a"})) == 200
    assert await send_event(url, dict(base, message={"msg_id": "again-2", "text": "b"})) == 200
    await channel.queue.drain(5)
    assert texts_sent(fake) == ["Đã nhận: a", "Đã nhận: b"]
    assert [r["body"]["message"]["text"] for r in fake.sends].count("Nhắc lịch hẹn.") == 2


async def test_expired_token_is_refreshed_persisted_before_use_and_retried(fake: FakeZalo, tmp_path: Path
                                                                           ) -> None:
    channel = make_channel(fake, tmp_path)
    store = FileTokenStore(tmp_path / "tokens.json")
    seen_in_store: list = []

    async def check_persisted(record: Dict[str, Any]) -> None:
        seen_in_store.append((record["token"], await store.load()))

    fake.before_send = check_persisted
    fake.expire_access_tokens()
    await channel.output.send_text_message(USER, "xin chào")
    assert len(fake.delivered) == 1
    assert [c["refresh_token"] for c in fake.refresh_calls] == ["rt-0"]
    call = fake.refresh_calls[0]
    assert call["secret_key"] == APP_SECRET and call["app_id"] == APP_ID
    assert call["grant_type"] == "refresh_token"
    new_access = fake.delivered[0]["token"]
    assert new_access != "at-0"
    token, stored = seen_in_store[0]
    assert token == new_access and stored is not None
    assert stored.access_token == new_access and stored.refresh_token in fake.valid_refresh
    assert stored.expires_at > time.time() + 80000
    # The next send uses the stored token without refreshing again.
    await channel.output.send_text_message(USER, "lần hai")
    assert len(fake.refresh_calls) == 1 and fake.delivered[-1]["token"] == new_access


async def test_expiring_token_is_refreshed_proactively(fake: FakeZalo, tmp_path: Path) -> None:
    channel = make_channel(fake, tmp_path)
    await FileTokenStore(tmp_path / "tokens.json").save(TokenPair("at-0", "rt-0", time.time() + 5))
    await channel.output.send_text_message(USER, "xin chào")
    assert len(fake.refresh_calls) == 1 and fake.delivered[0]["token"] != "at-0"
    assert all(r["token"] != "at-0" for r in fake.sends)


async def test_failed_refresh_is_recorded_and_does_not_loop(fake: FakeZalo, tmp_path: Path) -> None:
    channel = make_channel(fake, tmp_path)
    fake.valid_refresh.clear()  # the configured refresh token was already spent elsewhere
    fake.expire_access_tokens()
    await channel.output.send_text_message(USER, "xin chào")
    assert len(fake.refresh_calls) == 1 and len(fake.sends) == 1 and fake.delivered == []
    assert channel.output.failures[-1]["code"] == "-216"


async def test_two_instances_sharing_redis_spend_the_refresh_token_once(fake: FakeZalo, tmp_path: Path,
                                                                        redis_clean: str) -> None:
    fake.refresh_delay = 0.2  # widen the race window
    outputs = [
        ZaloOutput(ZaloTokenManager(APP_ID, APP_SECRET, "at-0", "rt-0", fake.base_url, redis_url=redis_clean,
                                    token_file=tmp_path / f"unused-{i}.json"), fake.base_url, fast_policy())
        for i in range(2)
    ]
    fake.expire_access_tokens()
    await asyncio.gather(*(o.send_text_message(USER, f"tin {i}") for i, o in enumerate(outputs)))
    assert len(fake.delivered) == 2
    assert [c["ok"] for c in fake.refresh_calls] == [True]
    stored = await outputs[1].tokens.current()
    assert stored.refresh_token in fake.valid_refresh and stored.access_token == fake.delivered[0]["token"]
    assert not (tmp_path / "unused-0.json").exists()  # Redis, not the file, holds the pair
    for output in outputs:
        await output.tokens.aclose()


async def test_redis_dedupe_is_shared_between_instances(fake: FakeZalo, tmp_path: Path,
                                                        redis_clean: str) -> None:
    bots = [BotStub(), BotStub()]
    channels = [make_channel(fake, tmp_path, redis_url=redis_clean) for _ in range(2)]
    async with serve_channel(channels[0], bots[0]) as a, serve_channel(channels[1], bots[1]) as b:
        assert await send_event(f"{a}/webhook", "user_send_text") == 200
        assert await send_event(f"{b}/webhook", "user_send_text") == 200
        for channel in channels:
            await channel.queue.drain(5)
    assert len(bots[0].messages) + len(bots[1].messages) == 1


def test_from_credentials_refuses_to_start_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ZaloInput.REQUIRED:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConnectorConfigError) as err:
        ZaloInput.from_credentials({"app_id": "${ZALO_APP_ID}"})
    assert "ZALO_OA_SECRET" in str(err.value) and "ZALO_APP_ID" in str(err.value)
    values = {"ZALO_APP_ID": "1", "ZALO_OA_SECRET": "2", "ZALO_ACCESS_TOKEN": "3", "ZALO_REFRESH_TOKEN": "4",
              "ZALO_APP_SECRET": "5"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ZALO_API_BASE", "http://127.0.0.1:9")
    channel = ZaloInput.from_credentials(None)
    assert channel.app_id == "1" and channel.output.api_base == "http://127.0.0.1:9"
    monkeypatch.setenv("ZALO_APP_SECRET", "")
    with pytest.raises(ConnectorConfigError, match="ZALO_APP_SECRET"):
        ZaloInput.from_credentials(None)


async def test_logs_hold_no_full_phone_or_id_numbers(running: Any, fake: FakeZalo,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    channel, bot, url = running
    caplog.set_level(logging.DEBUG)
    base = load_fixture("user_send_text")
    text = "số điện thoại của tôi là 0912345678, căn cước 001090012345"
    assert await send_event(url, dict(base, message={"msg_id": "pii-1", "text": text})) == 200
    assert await send_event(url, "user_submit_info") == 200
    fake.fail_next("outside_window")
    await channel.queue.drain(5)
    await channel.output.send_text_message(USER, "Đã ghi nhận số 0912345678")
    assert bot.texts == [text]
    logged = caplog.text
    assert "0912345678" not in logged and "001090012345" not in logged and "84912345678" not in logged
    assert "-230" in logged
    assert USER not in logged and user_ref(USER) in logged  # user ids only as their hash
