"""Unit tests for the connectors' shared pieces: signatures, splitting, stores, queue, geo, masking."""
from __future__ import annotations

import asyncio
import hashlib
import logging

import pytest

from connectors.geo import haversine_km, location_payload, parse_coordinates
from connectors.logsafe import mask
from connectors.security import (messenger_signature, verify_messenger_signature, verify_zalo_signature,
                                 zalo_mac)
from connectors.stores import DedupeStore, HeldMessages, PauseStore
from connectors.textsplit import split_text
from connectors.userqueue import UserQueue


def test_zalo_mac_is_plain_sha256_of_the_concatenation() -> None:
    body = b'{"event_name":"user_send_text"}'
    expected = hashlib.sha256(b"app" + body + b"123" + b"secret").hexdigest()
    assert zalo_mac("app", body, "123", "secret") == expected
    assert verify_zalo_signature(f"mac={expected}", "app", body, "123", "secret")
    assert verify_zalo_signature(expected.upper(), "app", body, "123", "secret")
    assert not verify_zalo_signature(f"mac={expected}", "app", body, "124", "secret")
    assert not verify_zalo_signature(None, "app", body, "123", "secret")
    assert not verify_zalo_signature(f"mac={expected}", "app", body, None, "secret")
    assert not verify_zalo_signature("mac=ünicode", "app", body, "123", "secret")


def test_messenger_signature() -> None:
    body = b'{"object":"page"}'
    sig = messenger_signature("s", body)
    assert sig.startswith("sha256=") and verify_messenger_signature(sig, "s", body)
    assert not verify_messenger_signature(sig, "t", body)
    assert not verify_messenger_signature(sig.replace("sha256", "sha1"), "s", body)
    assert not verify_messenger_signature(None, "s", body)


@pytest.mark.parametrize("text", [
    "ngắn",
    "Câu một. " * 600,
    ("Đoạn văn dài.\n" * 50 + "\n") * 10,
    "không có dấu chấm nào " * 300,
    "x" * 4500,
    "Câu rất dài " + "https://example.invalid/" + "a" * 2500 + " hết.",
])
def test_split_text_keeps_every_word_within_the_limit(text: str) -> None:
    parts = split_text(text)
    assert all(0 < len(p) <= 2000 for p in parts)
    assert "".join(" ".join(parts).split()) == "".join(text.split())
    if "a" * 2500 not in text and "x" * 4500 != text:
        assert " ".join(parts).split() == text.split()


def test_split_prefers_sentence_boundaries() -> None:
    text = ("Một câu hoàn chỉnh kết thúc bằng dấu chấm. " * 80).strip()
    parts = split_text(text, limit=500)
    assert all(p.endswith(".") for p in parts)
    assert split_text("") == [] and split_text("   ") == []


async def test_in_memory_dedupe_and_pause_expire() -> None:
    dedupe = DedupeStore("t", ttl_seconds=0.05)
    assert await dedupe.first_time("m1") and not await dedupe.first_time("m1")
    await asyncio.sleep(0.06)
    assert await dedupe.first_time("m1")
    pause = PauseStore("t", ttl_seconds=0.05)
    await pause.set("u")
    assert await pause.is_set("u")
    await asyncio.sleep(0.06)
    assert not await pause.is_set("u")


async def test_redis_stores_share_state(redis_clean: str) -> None:
    a, b = DedupeStore("t", redis_url=redis_clean), DedupeStore("t", redis_url=redis_clean)
    assert await a.first_time("m1") and not await b.first_time("m1")
    pause = PauseStore("t", ttl_seconds=60, redis_url=redis_clean)
    await pause.set("u")
    reader = PauseStore("t", redis_url=redis_clean)
    assert await reader.is_set("u")
    await reader.aclose()
    await pause.clear("u")
    other = PauseStore("t", redis_url=redis_clean)
    assert not await pause.is_set("u") and not await other.is_set("u")
    for store in (a, b, pause, other):
        await store.aclose()


async def check_held_messages(redis_url: str) -> None:
    """Bounded per user, taken once (by another instance too when shared), expired after the TTL."""
    a, b = (HeldMessages("t", ttl_seconds=1, max_per_user=3, redis_url=redis_url) for _ in range(2))
    for i in range(5):
        await a.add("u", {"text": f"tin {i}"})
    reader = b if redis_url else a
    assert await reader.take("u") == [{"text": f"tin {i}"} for i in (2, 3, 4)]
    assert await reader.take("u") == []
    await a.add("u", {"text": "cũ"})
    await asyncio.sleep(1.2)
    assert await reader.take("u") == []
    for store in (a, b):
        await store.aclose()


async def test_held_messages_in_memory() -> None:
    await check_held_messages("")


async def test_held_messages_in_redis_are_shared(redis_clean: str) -> None:
    await check_held_messages(redis_clean)


async def test_user_queue_orders_per_user_and_runs_users_in_parallel(
        caplog: pytest.LogCaptureFixture) -> None:
    queue = UserQueue()
    done: list = []

    def job(user: str, i: int, delay: float, fail: bool = False):
        async def run() -> None:
            await asyncio.sleep(delay)
            if fail:
                raise RuntimeError("boom")
            done.append((user, i))
        return run

    queue.submit("a", job("a", 0, 0.2))
    for i in range(1, 5):
        queue.submit("a", job("a", i, 0, fail=(i == 2)))
    queue.submit("b", job("b", 0, 0))
    await asyncio.sleep(0.05)
    assert done == [("b", 0)]
    with caplog.at_level(logging.ERROR):
        await queue.drain(5)
    assert [i for u, i in done if u == "a"] == [0, 1, 3, 4]
    assert not queue.busy() and "connector job failed" in caplog.text


def test_haversine_coordinates_and_the_location_message() -> None:
    assert haversine_km(21.0, 105.8, 21.0, 105.8) == 0
    assert 110 < haversine_km(21.0, 105.8, 22.0, 105.8) < 112
    assert location_payload(21.03, 105.8) == '/share_location{"latitude": "21.030000", "longitude": "105.800000"}'
    assert parse_coordinates("21.03", "105.8") == (21.03, 105.8)
    assert parse_coordinates("abc", 1) is None and parse_coordinates(91, 0) is None


def test_mask_hides_phone_and_id_numbers() -> None:
    out = mask("gọi 0912345678 hoặc căn cước 001090012345")
    assert "0912345678" not in out and "001090012345" not in out
