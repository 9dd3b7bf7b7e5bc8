"""End to end on real processes: signed Zalo and Messenger webhooks reach a Rasa server running the trained model
(Redis tracker and lock stores, the real action server), and the answers land at the fake platform APIs."""
from __future__ import annotations

import asyncio
import json
import os
import socket
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

pytestmark = pytest.mark.slow

APP_ID = f"e2e{uuid.uuid4().hex[:12]}"  # fresh per run: Zalo tokens persisted in Redis are keyed by app id
OA_SECRET = "e2e-oa-secret"
APP_SECRET = "e2e-app-secret"
FB_SECRET = "e2e-fb-secret"
PAGE_TOKEN = "e2e-page-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, seconds: float) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"{url} not up after {seconds} s")


class Platforms:
    """The two fake platform servers, served from a background event loop thread."""

    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.zalo = FakeZalo(APP_ID, APP_SECRET, access_token="at-0", refresh_token="rt-0")
        self.messenger = FakeMessenger(page_token=PAGE_TOKEN)
        self.zalo_url = self.call(self.zalo.start())
        self.messenger_url = self.call(self.messenger.start())

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        self.call(self.zalo.stop())
        self.call(self.messenger.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def platforms() -> Iterator[Platforms]:
    fakes = Platforms()
    yield fakes
    fakes.close()


@pytest.fixture(scope="module")
def bot(trained_model: Path, redis_base_url: str, platforms: Platforms, tmp_path_factory) -> Iterator[str]:
    """Action server + Rasa server with both channels and Redis stores; yields the Rasa base URL."""
    work = tmp_path_factory.mktemp("e2e")
    action_port, rasa_port = _free_port(), _free_port()
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
        "REDIS_URL": f"redis://{host}:{port}/5",
    })
    logs = {name: open(work / f"{name}.log", "w") for name in ("actions", "rasa")}
    actions = subprocess.Popen([PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
                               cwd=REPO, env=env, stdout=logs["actions"], stderr=subprocess.STDOUT)
    rasa = subprocess.Popen([PYTHON, "-m", "rasa", "run", "--model", str(trained_model), "--endpoints",
                             str(endpoints), "--credentials", str(REPO / "bot" / "credentials.platforms.yml"),
                             "--port", str(rasa_port), "--enable-api"],
                            cwd=REPO, env=env, stdout=logs["rasa"], stderr=subprocess.STDOUT)
    try:
        _wait_http(f"http://127.0.0.1:{action_port}/health", actions, 120)
        _wait_http(f"http://127.0.0.1:{rasa_port}/status", rasa, 240)
        yield f"http://127.0.0.1:{rasa_port}"
    except RuntimeError as exc:
        for f in logs.values():
            f.flush()
        pytest.fail(f"{exc}\n{(work / 'rasa.log').read_text()[-3000:]}\n{(work / 'actions.log').read_text()[-2000:]}")
    finally:
        for proc in (rasa, actions):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for f in logs.values():
            f.close()


def zalo_text(user: str, text: str, msg_id: str = "") -> Dict[str, Any]:
    return {"app_id": APP_ID, "user_id_by_app": "1" + user, "event_name": "user_send_text",
            "sender": {"id": user}, "recipient": {"id": "oa-1"},
            "message": {"text": text, "msg_id": msg_id or uuid.uuid4().hex},
            "timestamp": str(int(time.time() * 1000))}


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
    answers = [t for t in zalo_texts_to(platforms, user) if "Đăng ký khai sinh" in t]
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


async def test_messenger_question_lands_at_the_send_api(bot: str, platforms: Platforms) -> None:
    user = "p" + uuid.uuid4().hex[:10]
    delivery = {"object": "page", "entry": [{"id": "page-1", "time": int(time.time() * 1000), "messaging": [
        {"sender": {"id": user}, "recipient": {"id": "page-1"}, "timestamp": int(time.time() * 1000),
         "message": {"mid": "m-" + user, "text": "lam can cuoc het bao nhieu tien"}}]}]}
    raw, headers = signed_messenger_request(delivery, FB_SECRET)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{bot}/webhooks/messenger/webhook", data=raw, headers=headers) as resp:
            assert resp.status == 200
        bad = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
        async with session.post(f"{bot}/webhooks/messenger/webhook", data=raw, headers=bad) as resp:
            assert resp.status == 403

    def texts() -> List[str]:
        out = []
        for r in list(platforms.messenger.delivered):
            if r["body"]["recipient"]["id"] != user:
                continue
            message = r["body"].get("message", {})
            out.append(message.get("text") or json.dumps(message, ensure_ascii=False))
        return out

    assert await wait_for(lambda: any("căn cước" in t for t in texts()))
    assert any(a["body"].get("sender_action") == "typing_on" for a in platforms.messenger.actions)
