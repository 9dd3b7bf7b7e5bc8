"""infra.redis_client against a real Redis: opened on first use, one client per event loop, errors mapped, closed."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from infra.redis_client import AsyncRedis, redis_url
from tests.conftest import free_port


class Unavailable(Exception):
    """The caller's own "Redis did not answer" error."""


def test_the_url_is_the_given_one_else_redis_url() -> None:
    assert redis_url(" redis://a:6379/0 ", env={"REDIS_URL": "redis://b"}) == "redis://a:6379/0"
    assert redis_url(env={"REDIS_URL": " redis://b:6379/1 "}) == "redis://b:6379/1"
    assert redis_url(env={}) == "" and redis_url(env={"REDIS_URL": "  "}) == ""


def test_redis_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390/2")
    assert AsyncRedis().url == "redis://127.0.0.1:6390/2"
    monkeypatch.delenv("REDIS_URL")
    assert AsyncRedis().url == ""


async def test_opens_on_first_use_and_talks_to_redis(redis_base_url: str) -> None:
    client = AsyncRedis(redis_base_url, decode_responses=True)
    assert not client.opened  # creating it connects nothing
    key = f"test:redis_client:{uuid.uuid4().hex}"
    try:
        await client.call(lambda r: r.set(key, "một", ex=30), Unavailable)
        assert client.opened
        assert await client.call(lambda r: r.get(key), Unavailable) == "một"
        assert client.client() is client.client()  # one client per loop
    finally:
        await client.call(lambda r: r.delete(key), Unavailable)
        await client.close()
    assert not client.opened


def test_a_new_event_loop_gets_a_new_client(redis_base_url: str) -> None:
    client = AsyncRedis(redis_base_url)

    async def ping(close: bool) -> object:
        assert await client.call(lambda r: r.ping(), Unavailable)
        used = client.client()
        if close:
            await client.close()
        return used

    first = asyncio.run(ping(close=False))
    second = asyncio.run(ping(close=True))  # the first loop is closed: its client's connections are unusable here
    assert first is not second


async def test_a_redis_that_does_not_answer_raises_the_callers_error() -> None:
    client = AsyncRedis(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with pytest.raises(Unavailable, match="ConnectionError") as info:
        await client.call(lambda r: r.get("x"), Unavailable)
    assert info.value.__cause__ is not None
    await client.close()


async def test_no_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValueError, match="REDIS_URL"):
        await AsyncRedis().call(lambda r: r.ping(), Unavailable)
