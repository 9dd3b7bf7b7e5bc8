"""With an event broker, the masked stores publish exactly the events Rasa's own stores publish (new events only,
across conversation sessions), without rebuilding the stored conversation."""
from __future__ import annotations

import uuid
from typing import Any, Dict, List

import redis
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

from privacy.tracker_store import MaskingInMemoryTrackerStore, MaskingRedisTrackerStore, stored_session_length


class Collected(EventBroker):
    """A broker that keeps what it is given (Rasa's interface, in memory)."""

    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any]) -> None:
        self.events.append(event)


def _turn(text: str) -> list:
    return [UserUttered(text, {"name": "ask", "confidence": 1.0}, input_channel="zalo"),
            ActionExecuted("action_answer_procedure"), BotUttered(f"trả lời: {text}"), ActionExecuted("action_listen")]


def _session() -> list:
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


async def _published(store: TrackerStore, broker: Collected, sender: str) -> List[List[tuple]]:
    """Three saves as Rasa's processor makes them: a first turn, a second, then a new session on the loaded one."""
    out = []
    tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
    for event in _session() + _turn("một, sđt 0912345678"):
        tracker.update(event)
    for extra in ([], _turn("hai")):
        for event in extra:
            tracker.update(event)
        broker.events.clear()
        await store.save(tracker)
        out.append([(e["event"], e.get("name"), e.get("text")) for e in broker.events])
    loaded = await store.retrieve(sender)
    for event in _session() + _turn("ba"):
        loaded.update(event)
    broker.events.clear()
    await store.save(loaded)
    out.append([(e["event"], e.get("name"), e.get("text")) for e in broker.events])
    loaded = await store.retrieve(sender)
    loaded.update(UserUttered("bốn", {"name": "ask", "confidence": 1.0}))
    broker.events.clear()
    await store.save(loaded)
    out.append([(e["event"], e.get("name"), e.get("text")) for e in broker.events])
    return out


async def test_in_memory_store_publishes_what_rasa_publishes() -> None:
    ours, theirs = Collected(), Collected()
    got = await _published(MaskingInMemoryTrackerStore(Domain.empty(), event_broker=ours), ours, "zalo-1")
    want = await _published(InMemoryTrackerStore(Domain.empty(), event_broker=theirs), theirs, "zalo-1")
    assert got == want
    assert [len(batch) for batch in got] == [7, 4, 7, 1]
    assert got[0][3] == ("user", None, "một, sđt 0912345678")   # the broker gets the turn's events, unmasked


async def test_redis_store_publishes_what_rasa_publishes(redis_base_url) -> None:
    kwargs = redis.Redis.from_url(redis_base_url).connection_pool.connection_kwargs
    where = {"host": kwargs.get("host", "127.0.0.1"), "port": kwargs.get("port", 6379), "db": kwargs.get("db", 0)}
    ours, theirs = Collected(), Collected()
    prefix = "s16" + uuid.uuid4().hex[:8]
    got = await _published(MaskingRedisTrackerStore(Domain.empty(), event_broker=ours, key_prefix=prefix + "a",
                                                     **where), ours, "fb-1")
    want = await _published(RedisTrackerStore(Domain.empty(), event_broker=theirs, key_prefix=prefix + "b", **where),
                            theirs, "fb-1")
    assert got == want and [len(batch) for batch in got] == [7, 4, 7, 1]


def test_stored_session_length_counts_from_the_last_session_start() -> None:
    assert stored_session_length(None) == 0
    events = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
              {"event": "user"}, {"event": "action", "name": "action_session_start"}, {"event": "user"}]
    assert stored_session_length('{"events": %s}' % str(events).replace("'", '"')) == 2
    assert stored_session_length(b'{"events": [{"event": "user"}]}') == 1
