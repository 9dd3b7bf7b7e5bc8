"""End to end on real processes: signed Zalo and Messenger webhooks reach a Rasa server running the trained model
(Redis tracker and lock stores, the real action server), and the answers land at the fake platform APIs."""
from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List

import aiohttp
import pytest

from tests.conftest import PYTHON, REPO, rasa_env
from tests.fakes.fake_messenger import FakeMessenger, signed_messenger_request
from tests.fakes.fake_zalo import FakeZalo, signed_zalo_request
from tests.fakes.processes import LoopThread, free_port, stop_process, wait_http

pytestmark = pytest.mark.slow

APP_ID = f"e2e{uuid.uuid4().hex[:12]}"  # fresh per run: Zalo tokens persisted in Redis are keyed by app id
OA_SECRET = "e2e-oa-secret"
APP_SECRET = "e2e-app-secret"
FB_SECRET = "e2e-fb-secret"
PAGE_TOKEN = "e2e-page-token"
OA_ID = "oa-1"
PAGE_ID = "page-1"


def connectors_redis_url(redis_base_url: str) -> str:
    """The Redis database the connectors use in these tests (db 5, as the tracker and lock stores)."""
    return redis_base_url.rsplit("/", 1)[0] + "/5"


class Platforms(LoopThread):
    """The two fake platform servers, served from a background event loop thread."""

    def __init__(self) -> None:
        super().__init__()
        self.zalo = FakeZalo(APP_ID, APP_SECRET, access_token="at-0", refresh_token="rt-0")
        self.messenger = FakeMessenger(page_token=PAGE_TOKEN)
        self.zalo_url = self.call(self.zalo.start())
        self.messenger_url = self.call(self.messenger.start())

    def close(self) -> None:
        self.call(self.zalo.stop())
        self.call(self.messenger.stop())
        self.stop()


@pytest.fixture(scope="module")
def platforms() -> Iterator[Platforms]:
    fakes = Platforms()
    yield fakes
    fakes.close()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The servers' folder: logs, the application and dossier databases."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def bot(trained_model: Path, redis_base_url: str, platforms: Platforms, work: Path) -> Iterator[str]:
    """Action server + Rasa server with both channels and Redis stores; yields the Rasa base URL."""
    action_port, rasa_port = free_port(), free_port()
    host_port = redis_base_url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    prefix = f"e2e{uuid.uuid4().hex[:8]}"
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n"
        f"tracker_store:\n  type: redis\n  url: {host}\n  port: {port}\n  db: 5\n  key_prefix: {prefix}\n"
        f"lock_store:\n  type: redis\n  url: {host}\n  port: {port}\n  db: 5\n  key_prefix: {prefix}\n",
        encoding="utf-8")
    env = rasa_env()
    env.update({
        "APP_DB_PATH": str(work / "app.sqlite"), "DOSSIER_DB_PATH": str(work / "dossiers.sqlite"),
        "DOSSIER_SUBSCRIPTIONS_DB_PATH": str(work / "subs.sqlite"),
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET": OA_SECRET, "ZALO_ACCESS_TOKEN": "at-0",
        "ZALO_REFRESH_TOKEN": "rt-0", "ZALO_APP_SECRET": APP_SECRET, "ZALO_API_BASE": platforms.zalo_url,
        "ZALO_OAUTH_BASE": platforms.zalo_url, "ZALO_TOKEN_FILE": str(work / "zalo_tokens.json"),
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN, "MESSENGER_APP_SECRET": FB_SECRET,
        "MESSENGER_VERIFY_TOKEN": "e2e-verify", "MESSENGER_GRAPH_BASE": platforms.messenger_url,
        "REDIS_URL": connectors_redis_url(redis_base_url),
    })
    logs = {name: open(work / f"{name}.log", "w") for name in ("actions", "rasa")}
    actions = subprocess.Popen([PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
                               cwd=REPO, env=env, stdout=logs["actions"], stderr=subprocess.STDOUT)
    rasa = subprocess.Popen([PYTHON, "-m", "rasa", "run", "--model", str(trained_model), "--endpoints",
                             str(endpoints), "--credentials", str(REPO / "bot" / "credentials.platforms.yml"),
                             "--port", str(rasa_port), "--enable-api"],
                            cwd=REPO, env=env, stdout=logs["rasa"], stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{action_port}/health", actions, 120)
        wait_http(f"http://127.0.0.1:{rasa_port}/status", rasa, 240)
        yield f"http://127.0.0.1:{rasa_port}"
    except RuntimeError as exc:
        for f in logs.values():
            f.flush()
        pytest.fail(f"{exc}\n{(work / 'rasa.log').read_text()[-3000:]}\n{(work / 'actions.log').read_text()[-2000:]}")
    finally:
        for proc in (rasa, actions):
            stop_process(proc)
        for f in logs.values():
            f.close()


def zalo_event(user: str, event_name: str, message: Dict[str, Any]) -> Dict[str, Any]:
    """A Zalo user event (``message`` gets a fresh msg_id unless it has one)."""
    return {"app_id": APP_ID, "user_id_by_app": "1" + user, "event_name": event_name,
            "sender": {"id": user}, "recipient": {"id": OA_ID},
            "message": {"msg_id": uuid.uuid4().hex, **message}, "timestamp": str(int(time.time() * 1000))}


def zalo_text(user: str, text: str, msg_id: str = "") -> Dict[str, Any]:
    return zalo_event(user, "user_send_text", {"text": text, **({"msg_id": msg_id} if msg_id else {})})


async def post_zalo(bot: str, event: Dict[str, Any], secret: str = OA_SECRET) -> int:
    raw, headers = signed_zalo_request(event, secret)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{bot}/webhooks/zalo/webhook", data=raw, headers=headers) as resp:
            return resp.status


def zalo_texts_to(platforms: Platforms, user: str) -> List[str]:
    return [r["body"]["message"].get("text", "") for r in list(platforms.zalo.delivered)
            if r["body"]["recipient"]["user_id"] == user and "text" in r["body"].get("message", {})]


async def wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.2)
    return predicate()


async def test_zalo_question_is_answered_once_even_when_redelivered(bot: str, platforms: Platforms) -> None:
    user = "u" + uuid.uuid4().hex[:10]
    event = zalo_text(user, "làm giấy khai sinh cần những giấy tờ gì", msg_id="dup-" + user)
    statuses = await asyncio.gather(*(post_zalo(bot, event) for _ in range(3)))
    assert statuses == [200, 200, 200]
    assert await wait_for(lambda: any("khai sinh" in t for t in zalo_texts_to(platforms, user)))
    await asyncio.sleep(3)  # a duplicate would arrive by now
    answers = [t for t in zalo_texts_to(platforms, user) if t.startswith("Dạ, về thủ tục Đăng ký khai sinh")]
    assert len(answers) == 1


async def test_zalo_bad_signature_is_refused_and_not_processed(bot: str, platforms: Platforms) -> None:
    user = "u" + uuid.uuid4().hex[:10]
    assert await post_zalo(bot, zalo_text(user, "chào bạn"), secret="wrong") == 403
    await asyncio.sleep(3)
    assert zalo_texts_to(platforms, user) == []


async def test_zalo_burst_from_one_user_is_answered_in_order(bot: str, platforms: Platforms) -> None:
    user = "u" + uuid.uuid4().hex[:10]
    messages = ["chào bạn", "cảm ơn nhé", "bạn là người hay máy", "tạm biệt", "chào bạn"]
    for text in messages:  # sent back to back, all acknowledged before the first turn ends
        assert await post_zalo(bot, zalo_text(user, text)) == 200
    expected = ["Xin chào", "không có gì", "trợ lý tự động", "Cảm ơn anh/chị đã liên hệ", "Xin chào"]
    assert await wait_for(lambda: len(zalo_texts_to(platforms, user)) >= 5, 90)
    got = zalo_texts_to(platforms, user)
    order = [next(i for i, e in enumerate(expected) if e in text) for text in got]
    assert order == [0, 1, 2, 3, 0], got


async def test_zalo_token_expiry_mid_conversation_is_refreshed(bot: str, platforms: Platforms) -> None:
    user = "u" + uuid.uuid4().hex[:10]
    platforms.zalo.expire_access_tokens()
    assert await post_zalo(bot, zalo_text(user, "chào bạn")) == 200
    assert await wait_for(lambda: any("Xin chào" in t for t in zalo_texts_to(platforms, user)))
    assert platforms.zalo.refresh_calls, "the connector should have refreshed the access token"


def messenger_delivery(*entries: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A webhook body with one entry per list of messaging items."""
    now = int(time.time() * 1000)
    return {"object": "page",
            "entry": [{"id": PAGE_ID, "time": now, "messaging": items} for items in entries]}


def messenger_message(user: str, message: Dict[str, Any]) -> Dict[str, Any]:
    """One messaging item from ``user`` (``message`` gets a fresh mid unless it has one)."""
    return {"sender": {"id": user}, "recipient": {"id": PAGE_ID}, "timestamp": int(time.time() * 1000),
            "message": {"mid": "m-" + uuid.uuid4().hex, **message}}


async def post_messenger(bot: str, delivery: Dict[str, Any], secret: str = FB_SECRET) -> int:
    raw, headers = signed_messenger_request(delivery, secret)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{bot}/webhooks/messenger/webhook", data=raw, headers=headers) as resp:
            return resp.status


def messenger_texts_to(platforms: Platforms, user: str) -> List[str]:
    out = []
    for r in list(platforms.messenger.delivered):
        if r["body"]["recipient"]["id"] != user:
            continue
        message = r["body"].get("message", {})
        out.append(message.get("text") or json.dumps(message, ensure_ascii=False))
    return out


async def test_messenger_question_lands_at_the_send_api(bot: str, platforms: Platforms) -> None:
    user = "p" + uuid.uuid4().hex[:10]
    delivery = messenger_delivery([messenger_message(user, {"text": "lam can cuoc het bao nhieu tien"})])
    assert await post_messenger(bot, delivery) == 200
    assert await post_messenger(bot, delivery, secret="wrong") == 403
    assert await wait_for(lambda: any("căn cước" in t for t in messenger_texts_to(platforms, user)))
    assert any(a["body"].get("sender_action") == "typing_on" for a in platforms.messenger.actions)


async def test_messenger_batched_delivery_answers_every_item_in_order(bot: str, platforms: Platforms) -> None:
    first, second = "p" + uuid.uuid4().hex[:10], "p" + uuid.uuid4().hex[:10]
    delivery = messenger_delivery(
        [messenger_message(first, {"text": "chào bạn"}), messenger_message(first, {"text": "cảm ơn nhé"})],
        [{"sender": {"id": second}, "recipient": {"id": PAGE_ID}, "delivery": {"mids": ["m-old"]}},
         messenger_message(second, {"text": "làm giấy khai sinh cần những giấy tờ gì"})],
    )
    standby = [messenger_message(second, {"text": "x"})]  # another app's thread: not ours to answer
    delivery["entry"].append({"id": PAGE_ID, "time": 1, "standby": standby})
    assert await post_messenger(bot, delivery) == 200
    assert await wait_for(lambda: len(messenger_texts_to(platforms, first)) >= 2
                          and any("khai sinh" in t for t in messenger_texts_to(platforms, second)), 90)
    got = messenger_texts_to(platforms, first)
    assert "Xin chào" in got[0] and "không có gì" in got[1], got


async def test_echoes_are_ignored_and_an_officer_echo_hands_the_user_over(
        bot: str, platforms: Platforms, work: Path, redis_base_url: str) -> None:
    import redis

    zalo_user, fb_user = "u" + uuid.uuid4().hex[:10], "p" + uuid.uuid4().hex[:10]
    echo = {"app_id": APP_ID, "event_name": "oa_send_text", "sender": {"id": OA_ID},
            "recipient": {"id": zalo_user}, "timestamp": str(int(time.time() * 1000))}
    assert await post_zalo(bot, dict(echo, message={"msg_id": uuid.uuid4().hex, "text": "chào bạn"})) == 200
    fb_echo = {"sender": {"id": PAGE_ID}, "recipient": {"id": fb_user}, "timestamp": int(time.time() * 1000),
               "message": {"mid": "m-" + uuid.uuid4().hex, "is_echo": True, "text": "chào bạn"}}
    assert await post_messenger(bot, messenger_delivery([fb_echo])) == 200
    officer = dict(echo, sender={"id": OA_ID, "admin_id": "7290012345678901234"},
                   message={"msg_id": uuid.uuid4().hex, "text": "Chào anh, tôi là cán bộ một cửa ạ."})
    assert await post_zalo(bot, officer) == 200
    assert await post_zalo(bot, zalo_text(zalo_user, "chào bạn")) == 200  # now the officer's to answer

    def handoffs() -> List[Any]:
        import sqlite3

        try:
            with sqlite3.connect(work / "app.sqlite") as conn:
                query = "SELECT channel, reason FROM handoffs WHERE sender_id = ?"
                return conn.execute(query, (zalo_user,)).fetchall()
        except sqlite3.OperationalError:  # the table is created by the first hand-off
            return []

    assert await wait_for(lambda: handoffs() == [("zalo", "officer_reply")], 30)
    await asyncio.sleep(3)  # a bot reply to the echoes or to the paused user would have arrived by now
    assert zalo_texts_to(platforms, zalo_user) == [] and messenger_texts_to(platforms, fb_user) == []
    assert not any(r["body"]["recipient"].get("id") == PAGE_ID for r in list(platforms.messenger.sends))
    client = redis.Redis.from_url(connectors_redis_url(redis_base_url))
    assert client.exists(f"chatbot:paused:zalo:{zalo_user}")
    client.close()


async def test_stickers_and_images_get_a_helpful_reply(bot: str, platforms: Platforms) -> None:
    from connectors.replies import text_only_reply

    zalo_user, fb_user = "u" + uuid.uuid4().hex[:10], "p" + uuid.uuid4().hex[:10]
    sticker = {"attachments": [{"type": "sticker",
                                "payload": {"id": "bfe2", "url": "https://example.invalid/s.png"}}]}
    image = {"attachments": [{"type": "image", "payload": {"url": "https://example.invalid/a.jpg"}}]}
    assert await post_zalo(bot, zalo_event(zalo_user, "user_send_sticker", sticker)) == 200
    assert await post_zalo(bot, zalo_event(zalo_user, "user_send_image", image)) == 200
    like = 369239263222822
    fb_sticker = {"sticker_id": like, "attachments": [
        {"type": "image", "payload": {"url": "https://example.invalid/like.png", "sticker_id": like}}]}
    assert await post_messenger(bot, messenger_delivery([messenger_message(fb_user, fb_sticker),
                                                         messenger_message(fb_user, image)])) == 200
    assert await wait_for(lambda: len(zalo_texts_to(platforms, zalo_user)) >= 2
                          and len(messenger_texts_to(platforms, fb_user)) >= 2)
    expected = [text_only_reply("sticker"), text_only_reply("image")]
    assert zalo_texts_to(platforms, zalo_user) == expected
    assert messenger_texts_to(platforms, fb_user) == expected


async def test_a_shared_location_is_answered_with_the_nearest_office(bot: str, platforms: Platforms) -> None:
    zalo_user, fb_user = "u" + uuid.uuid4().hex[:10], "p" + uuid.uuid4().hex[:10]
    lat, lon = 21.0330, 105.7905  # Cầu Giấy
    location = {"text": "", "attachments": [
        {"type": "location", "payload": {"coordinates": {"latitude": str(lat), "longitude": str(lon)}}}]}
    assert await post_zalo(bot, zalo_event(zalo_user, "user_send_location", location)) == 200
    fb_location = {"attachments": [{"type": "location",
                                    "payload": {"coordinates": {"lat": lat, "long": lon}}}]}
    assert await post_messenger(bot, messenger_delivery([messenger_message(fb_user, fb_location)])) == 200
    expected = "Điểm tiếp nhận gần anh/chị nhất: UBND phường Cầu Giấy"  # action_nearest_office, with "Đặt lịch"

    def answered(bodies: List[Dict[str, Any]]) -> bool:
        return any(expected in json.dumps(b, ensure_ascii=False) and "Đặt lịch tại đây" in json.dumps(
            b, ensure_ascii=False) for b in bodies)

    assert await wait_for(lambda: answered([r["body"] for r in list(platforms.zalo.delivered)
                                            if r["body"]["recipient"].get("user_id") == zalo_user])
                          and answered([r["body"] for r in list(platforms.messenger.delivered)
                                        if r["body"]["recipient"].get("id") == fb_user]))


async def test_a_long_answer_is_split_at_sentence_boundaries_and_nothing_is_cut(
        bot: str, platforms: Platforms, work: Path) -> None:
    import dataclasses
    import datetime as dt

    from onestop.dossiers.backend import DemoDossierBackend
    from onestop.dossiers.model import DossierStatus, render_private_vi
    from onestop.dossiers.seed import demo_codes, demo_dossier

    # A dossier with a long officer note, as real supplement requests have: the answer is > 4,000 chars. It is
    # shown after the ownership proof (before it, only the status and the dates: issue 13).
    template = demo_dossier(demo_codes(1)[DossierStatus.SUPPLEMENT_REQUIRED.value][0])
    assert template is not None
    code = f"000.00.11.H26-{dt.date.today():%y%m%d}-9{uuid.uuid4().int % 1000:03d}"
    steps = [f"Bước {i}: anh/chị bổ sung bản sao giấy tờ thứ {i} theo hướng dẫn của cán bộ tiếp nhận, "
             "có chứng thực hoặc mang bản chính để đối chiếu tại bộ phận một cửa." for i in range(1, 31)]
    dossier = dataclasses.replace(template, code=code, next_step_vi=" ".join(steps),
                                  missing_documents=["Tờ khai theo mẫu", "Giấy xác nhận nơi cư trú"])
    backend = DemoDossierBackend(work / "dossiers.sqlite")
    await backend.put(dossier)
    full = render_private_vi(await backend.get(code))
    await backend.close()
    assert len(full) > 4000

    user = "u" + uuid.uuid4().hex[:10]
    assert await post_zalo(bot, zalo_text(user, f"tra cứu hồ sơ {code}")) == 200
    assert await wait_for(lambda: any("muốn nhận tin nhắn" in t for t in zalo_texts_to(platforms, user)), 90)
    assert await post_zalo(bot, zalo_text(user, "/dossier_details")) == 200
    assert await wait_for(lambda: any("vui lòng nhập 4 số cuối" in t for t in zalo_texts_to(platforms, user)), 60)
    asked = len(zalo_texts_to(platforms, user))
    last4 = "".join(ch for ch in dossier.applicant_phone if ch.isdigit())[-4:]
    assert await post_zalo(bot, zalo_text(user, last4)) == 200
    assert await wait_for(lambda: full[-40:] in "".join(zalo_texts_to(platforms, user)[asked:]), 90), \
        zalo_texts_to(platforms, user)[asked:]
    parts = zalo_texts_to(platforms, user)[asked:]
    assert len(parts) >= 3 and all(len(p) <= 2000 for p in parts), [len(p) for p in parts]
    pos = 0
    for i, part in enumerate(parts):
        start = full.index(part, pos)  # every part is a piece of the answer, in order
        assert full[pos:start].strip() == "", "text was lost between two parts"
        pos = start + len(part)
        if i < len(parts) - 1:
            assert part[-1] in ".!?…;:" or full[pos] == "\n", f"part {i} ends mid-sentence: {part[-40:]!r}"
    assert full[pos:].strip() == "", "the end of the answer was cut"
