"""The ZNS client against the fake ZNS server: request shape, error classes, retries, timeouts."""
from __future__ import annotations

import json
from pathlib import Path

from infra.retry import RetryPolicy
from onestop.notify.zns import Outcome, ZnsClient, classify_zns, env_token_provider, zns_phone
from tests.conftest import free_port
from tests.fakes.fake_zns import FakeZns
from tests.notify.conftest import zns_client

DATA = {"dossier_code": "X", "procedure_name": "Y", "status_label": "Z", "updated_date": "01/01/2027"}


def test_phone_and_classification() -> None:
    assert zns_phone("0912345678") == "84912345678" and zns_phone("+84912345678") == "84912345678"
    assert classify_zns(200, {"error": 0, "data": {"msg_id": "1"}}) == (Outcome.OK, None)
    assert classify_zns(200, {"error": -100, "message": "Unknown error"}) == (Outcome.RETRY, "-100")
    assert classify_zns(200, {"error": -124}) == (Outcome.AUTH, "-124")
    assert classify_zns(200, {"error": -108}) == (Outcome.FINAL, "-108")
    assert classify_zns(503, None) == (Outcome.RETRY, "http503")
    assert classify_zns(404, "<html>") == (Outcome.FINAL, "http404")


async def test_send_validates_like_zns(fake_zns: FakeZns) -> None:
    client = zns_client(fake_zns.base_url)
    try:
        ok = await client.send("0912345678", "300002", DATA, "t-1")
        assert ok.ok and ok.msg_id == "zns-msg-1" and ok.attempts == 1
        assert fake_zns.sends[0]["body"] == {"phone": "84912345678", "template_id": "300002",
                                             "template_data": DATA, "tracking_id": "t-1"}
        unknown = await client.send("0912345678", "999999", DATA, "t-2")
        assert (unknown.outcome, unknown.code) == (Outcome.FINAL, "-109")
        assert unknown.detail == "zns -109 template_id_invalid Template ID invalid"
        missing = await client.send("0912345678", "300002", {"dossier_code": "X"}, "t-3")
        assert missing.code == "-112" and missing.attempts == 1
        bad_phone = await client.send("12345", "300002", DATA, "t-4")
        assert bad_phone.code == "-108"
        bad_token = await zns_client(fake_zns.base_url, token="nope").send("0912345678", "300002", DATA, "t-5")
        assert (bad_token.outcome, bad_token.code) == (Outcome.FINAL, "-124")
    finally:
        await client.close()


async def test_retries_then_gives_up(fake_zns: FakeZns) -> None:
    client = zns_client(fake_zns.base_url)
    try:
        fake_zns.fail_next("unknown", "unknown", "unknown")
        result = await client.send("0912345678", "300002", DATA, "t-1")
        assert (result.outcome, result.code, result.attempts) == (Outcome.FINAL, "-100", 3)
        assert fake_zns.delivered == []
    finally:
        await client.close()


async def test_timeout_is_not_retried(fake_zns: FakeZns) -> None:
    async def token() -> str:
        return "zns-at"

    client = ZnsClient(token, base_url=fake_zns.base_url, policy=RetryPolicy(3, 0.01, 0.05, timeout=0.2))
    fake_zns.delay = 1.0
    fake_zns.fail_next("slow")
    try:
        result = await client.send("0912345678", "300002", DATA, "t-1")
        assert (result.outcome, result.code) == (Outcome.FINAL, "timeout")  # it may have gone: never twice
        assert len(fake_zns.sends) == 1
    finally:
        await client.close()


async def test_unreachable_server_is_retried() -> None:
    client = zns_client(f"http://127.0.0.1:{free_port()}")
    try:
        result = await client.send("0912345678", "300002", DATA, "t-1")
        assert result.outcome is Outcome.FINAL and result.attempts == 3 and result.code == "ClientConnectorError"
    finally:
        await client.close()


async def test_token_sources(tmp_path: Path) -> None:
    assert env_token_provider({}) is None
    assert ZnsClient.from_env({"ZNS_ACCESS_TOKEN": "x"}) is None  # ZNS_ENABLED not set
    assert ZnsClient.from_env({"ZNS_ENABLED": "1"}) is None       # enabled without a token: logged, skipped
    token_file = tmp_path / "zalo_tokens.json"
    token_file.write_text(json.dumps({"access_token": "from-file", "refresh_token": "r"}), encoding="utf-8")
    provider = env_token_provider({"ZALO_TOKEN_FILE": str(token_file), "ZALO_ACCESS_TOKEN": "initial"})
    assert provider is not None and await provider() == "from-file"
    token_file.write_text(json.dumps({"access_token": "rotated", "refresh_token": "r2"}), encoding="utf-8")
    assert await provider() == "rotated"  # read on every send
    token_file.unlink()
    assert await provider() == "initial"
    fixed = env_token_provider({"ZNS_ACCESS_TOKEN": "fixed", "ZALO_TOKEN_FILE": str(token_file)})
    assert fixed is not None and await fixed() == "fixed"
    client = ZnsClient.from_env({"ZNS_ENABLED": "1", "ZNS_ACCESS_TOKEN": "t", "ZNS_API_URL": "http://h:1/"})
    assert client is not None and client.url == "http://h:1/message/template"


async def test_token_from_the_connectors_redis(redis_base_url: str) -> None:
    import uuid

    import redis.asyncio as aioredis

    app_id = f"app-{uuid.uuid4().hex[:8]}"
    client = aioredis.from_url(redis_base_url, decode_responses=True)
    key = f"chatbot:zalo:tokens:{app_id}"
    try:
        provider = env_token_provider({"REDIS_URL": redis_base_url, "ZALO_APP_ID": app_id,
                                       "ZALO_ACCESS_TOKEN": "initial"})
        assert provider is not None and await provider() == "initial"  # nothing stored yet
        await client.hset(key, mapping={"access_token": "rotated-in-redis", "refresh_token": "r", "expires_at": "0"})
        assert await provider() == "rotated-in-redis"
    finally:
        await client.delete(key)
        await client.close(close_connection_pool=True)
