"""Stored trackers keep no raw phone, ID number or proof digits; Redis conversations expire (issue 13)."""
from __future__ import annotations

import json
import uuid

import redis
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from privacy.tracker_store import MaskingInMemoryTrackerStore, MaskingRedisTrackerStore

PHONE, ID_NUMBER, DIGITS = "0912345678", "001203004567", "0532"


def conversation(sender: str) -> DialogueStateTracker:
    """A booking phone, an ID number, then the proof digits asked by the proof form."""
    tracker = DialogueStateTracker(sender, slots=[])
    phone_entity = {"entity": "phone", "value": PHONE, "start": 4, "end": 14}
    tracker.update_with_events([
        ActionExecuted("action_listen"),
        UserUttered(f"sđt {PHONE}", {"name": "inform", "confidence": 1.0}, [phone_entity]),
        BotUttered(f"Số điện thoại: {PHONE}"),
        ActionExecuted("action_listen"),
        UserUttered(f"cccd của tôi {ID_NUMBER}", {"name": "inform", "confidence": 1.0}),
        SlotSet("requested_slot", "proof_last4"),
        ActionExecuted("action_listen"),
        UserUttered(DIGITS, {"name": "inform", "confidence": 1.0},
                    [{"entity": "number", "value": DIGITS, "start": 0, "end": 4}]),
        SlotSet("requested_slot", None),
        ActionExecuted("action_listen"),
        UserUttered("cảm ơn bạn", {"name": "thank", "confidence": 1.0}),
    ], domain=None)
    return tracker


def assert_masked(stored: str) -> None:
    assert PHONE not in stored and ID_NUMBER not in stored and DIGITS not in stored
    texts = [e.get("text") for e in json.loads(stored)["events"] if e.get("event") in ("user", "bot")]
    assert texts == ["sđt 091*******", "Số điện thoại: 091*******", "cccd của tôi 0012********", "****",
                     "cảm ơn bạn"]


async def test_in_memory_store_keeps_the_masked_conversation_and_the_turn_keeps_the_raw_one() -> None:
    store = MaskingInMemoryTrackerStore(Domain.empty())
    tracker = conversation("rest:a")
    await store.save(tracker)
    assert_masked(store.store["rest:a"])
    assert tracker.events[1].text == f"sđt {PHONE}"  # the running turn's tracker is untouched
    again = await store.retrieve("rest:a")
    assert [e.text for e in again.events if isinstance(e, UserUttered)][-1] == "cảm ơn bạn"
    assert await store.delete("rest:a") and await store.retrieve("rest:a") is None


async def test_redis_store_masks_and_expires_after_the_retention_period(redis_base_url, monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_RETENTION_DAYS", "30")
    url = redis.Redis.from_url(redis_base_url)
    prefix = "t13" + uuid.uuid4().hex[:8]
    kwargs = url.connection_pool.connection_kwargs
    store = MaskingRedisTrackerStore(Domain.empty(), host=kwargs.get("host", "127.0.0.1"),
                                     port=kwargs.get("port", 6379), db=kwargs.get("db", 0), key_prefix=prefix)
    key = f"{prefix}:tracker:messenger-1"
    try:
        tracker = conversation("messenger-1")
        await store.save(tracker)
        assert_masked(url.get(key).decode())
        assert 29 * 86400 < url.ttl(key) <= 30 * 86400
        # the next turn: loaded masked, a new message appended, saved again: still masked, nothing duplicated
        loaded = await store.retrieve("messenger-1")
        loaded.update(UserUttered(f"gọi {PHONE}", {"name": "inform", "confidence": 1.0}))
        await store.save(loaded)
        texts = [e.get("text") for e in json.loads(url.get(key))["events"] if e.get("event") == "user"]
        assert texts[-2:] == ["cảm ơn bạn", "gọi 091*******"] and len(texts) == 5
    finally:
        url.delete(key)
        url.close()
