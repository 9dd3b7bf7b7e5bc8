"""The statistics event broker: Rasa's tracker store publishes through it; publish only queues (bounded, the oldest
dropped and counted); a database failure keeps the rows for later and never reaches Rasa."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from cluster.stats_broker import StatsEventBroker, samples
from infra import db
from infra.masking import user_ref
from onestop.stats import events
from privacy.tracker_store import MaskingInMemoryTrackerStore

from ..conftest import REPO


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))
    db.dispose_all()
    yield f"sqlite:///{tmp_path / 'app.sqlite'}"
    db.dispose_all()


def _stored():
    with events.engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(events.stats_events).order_by(events.stats_events.c.id))]


def _user(i: int) -> dict:
    return {"event": "user", "sender_id": f"s{i}", "timestamp": 1764748800 + i, "text": "xin chào",
            "input_channel": "zalo", "parse_data": {"intent": {"name": "greet"}}}


async def test_a_turn_saved_by_the_tracker_store_becomes_statistics_rows(app_db):
    broker = StatsEventBroker(flush_seconds=0.05)
    broker.start()
    store = MaskingInMemoryTrackerStore(Domain.empty(), event_broker=broker)
    tracker = DialogueStateTracker.from_events("zalo-42", [
        ActionExecuted("action_listen"),
        UserUttered("cho hỏi làm căn cước cần gì, sđt 0912345678", {"name": "ask_procedure", "confidence": 0.9},
                    input_channel="zalo"),
        ActionExecuted("action_answer_procedure"),
        BotUttered("Dạ, anh/chị cần ..."),
        SlotSet("procedure_key", "cap_can_cuoc"), SlotSet("aspect", "documents"),
        ActionExecuted("action_listen"),
    ])
    await store.save(tracker)
    deadline = time.monotonic() + 10
    while broker.written < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await broker.close()
    rows = _stored()
    assert [(r["kind"], r["intent"], r["action"], r["procedure_key"], r["aspect"]) for r in rows] == [
        ("user", "ask_procedure", None, None, None),
        ("action", None, "action_answer_procedure", None, None),
        ("slot", None, "action_answer_procedure", "cap_can_cuoc", None),
        ("slot", None, "action_answer_procedure", None, "documents")]
    assert {r["user_ref"] for r in rows} == {user_ref("zalo-42")} and {r["channel"] for r in rows} == {"zalo"}
    assert not any("0912345678" in str(v) or "zalo-42" in str(v) for r in rows for v in r.values())
    assert (broker.dropped, broker.pending()) == (0, 0)


def test_publish_only_queues_and_drops_the_oldest_past_the_bound(app_db):
    broker = StatsEventBroker(max_queue=3)          # not started: nothing is written
    for i in range(5):
        broker.publish(_user(i))
    broker.publish({"event": "user"})               # no sender: not counted, not an error
    broker.publish({"event": "slot", "sender_id": "s1", "name": "procedure_key", "value": {"odd": 1}})
    broker.publish(None)                            # type: ignore[arg-type]  # never raises into Rasa
    assert (broker.pending(), broker.dropped) == (3, 3)
    assert broker.flush()
    assert [r["user_ref"] for r in _stored()] == [user_ref(f"s{i}") for i in (2, 3, 4)]
    assert {s[0]: s[4] for s in samples(broker)} == {"assistant_stats_rows_written": 3.0,
                                                      "assistant_stats_rows_dropped": 3.0,
                                                      "assistant_stats_rows_queued": 0.0}


def test_a_database_failure_keeps_the_rows_in_order_until_it_is_back(app_db, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    broker = StatsEventBroker(url=f"sqlite:///{blocker}/app.sqlite", max_queue=4, batch_size=2)
    for i in range(3):
        broker.publish(_user(i))
    assert not broker.flush()                       # logged, counted, nothing raised
    assert (broker.failures, broker.pending(), broker.dropped) == (1, 3, 0)
    for i in range(3, 6):
        broker.publish(_user(i))                    # the queue holds 4: the two oldest go
    assert (broker.pending(), broker.dropped) == (4, 2)
    broker.url = app_db
    assert broker.flush()
    assert [r["user_ref"] for r in _stored()] == [user_ref(f"s{i}") for i in (2, 3, 4, 5)]


async def test_rasa_builds_it_from_the_endpoints_file(app_db, monkeypatch):
    for name in ("ACTION_SERVER_TOKEN", "ACTION_SERVER_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB"):
        monkeypatch.setenv(name, "1")   # the files' other sections read them
    config = read_endpoint_config(str(REPO / "bot" / "endpoints.yml"), "event_broker")
    assert config is not None and config.type == "cluster.stats_broker.StatsEventBroker"
    broker = await EventBroker.create(config)
    try:
        assert isinstance(broker, StatsEventBroker) and broker.is_ready()
        assert broker.max_queue == config.kwargs["max_queue"]
    finally:
        await broker.close()
    assert not broker.is_ready()
    cluster = read_endpoint_config(str(REPO / "bot" / "endpoints.cluster.yml"), "event_broker")
    assert cluster is not None and cluster.type == config.type
    custom = await EventBroker.create(EndpointConfig(type=config.type, max_queue=7, batch_size=3, flush_seconds=1))
    try:
        assert (custom.max_queue, custom.batch_size, custom.flush_seconds) == (7, 3, 1.0)
    finally:
        await custom.close()
