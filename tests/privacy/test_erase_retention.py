"""`python -m privacy erase` and `retention` on a real SQLite database and a real Redis (issue 13)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
import redis
import sqlalchemy as sa

from infra import db
from onestop.appointments import store
from knowledge import calendar
from onestop.dossiers.subscriptions import SubscriptionStore
from onestop import feedback
from onestop.handoffs import callbacks, queue_reply, record_handoff
from onestop.notify import consent
from onestop.stats import events as stats
from infra.masking import user_ref
from onestop.handoffs.unanswered import record
from privacy import erase as erase_mod
from privacy import retention

CITIZEN, OTHER = "1234567890123", "9876543210987"


def vn(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=calendar.tz())


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """The application's database and subscription store in this test's folder; Rasa unreachable."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))
    monkeypatch.setenv("DOSSIER_SUBSCRIPTIONS_DB_PATH", str(tmp_path / "subs.sqlite"))
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RASA_TOKEN", "t")
    yield db.get_engine()


def rows(engine, table, **where):
    with engine.connect() as conn:
        query = sa.select(table)
        for key, value in where.items():
            query = query.where(table.c[key] == value)
        return [dict(r._mapping) for r in conn.execute(query)]


async def test_erase_removes_one_citizen_everywhere_and_nobody_else(app_db, redis_base_url, monkeypatch):
    for sender in (CITIZEN, OTHER):
        record_handoff(sender, "zalo", "requested", "gọi tôi 0912345678")
        queue_reply(sender, "Chào anh", "lan")
        record(sender, "hỏi gì đó", "declined")
        assert store.book("phuong_ba_dinh", vn(2027, 3, 2, 9, 0), "Trần Thị B", "0912345678", channel="zalo",
                          sender_id=sender, now=vn(2027, 3, 1, 7, 0)).ok
        feedback.record(sender, "zalo", "answer", "down", "khai_sinh", "fee", "wrong")
        consent.record_consent(sender, "0912345678", [consent.APPOINTMENT_REMINDER], channel="zalo")
        callbacks.record_callback(sender, "0912345678", "Trần Thị B", None)
        stats.write_rows([{"ts": vn(2027, 3, 1, 8, 0), "user_ref": user_ref(sender), "channel": "zalo",
                           "kind": "user", "intent": "greet"}])
    subs = SubscriptionStore()
    await subs.subscribe(CITIZEN, "zalo", "000.00.11.H26-241115-0007", "processing")
    await subs.close()
    client = redis.Redis.from_url(redis_base_url)
    prefix = "t13e" + uuid.uuid4().hex[:6]
    monkeypatch.setenv("REDIS_URL", redis_base_url)
    monkeypatch.setenv("TRACKER_KEY_PREFIX", prefix)
    client.set(f"{prefix}:tracker:{CITIZEN}", "{}")
    client.set(f"chatbot:paused:zalo:{CITIZEN}", "1", ex=60)
    try:
        counts = await erase_mod.erase(CITIZEN)
        assert counts["handoffs"] == counts["officer_replies"] == counts["unanswered"] == 1
        assert counts["bookings_cancelled"] == 1 and counts["subscriptions"] == 1 and counts["redis_keys"] == 2
        assert counts["rasa_tracker"] == -1  # no Rasa running here
        assert counts["feedback"] == counts["notify_consents"] == counts["handoff_callbacks"] == 1
        assert counts["stats_events"] == 1
        assert not consent.has_consent(CITIZEN, consent.APPOINTMENT_REMINDER)
        assert consent.has_consent(OTHER, consent.APPOINTMENT_REMINDER)   # nobody else
        assert not client.exists(f"{prefix}:tracker:{CITIZEN}", f"chatbot:paused:zalo:{CITIZEN}")
    finally:
        client.delete(f"{prefix}:tracker:{CITIZEN}", f"chatbot:paused:zalo:{CITIZEN}")
        client.close()
    for table in (db.handoffs, db.officer_replies, db.unanswered):
        assert rows(app_db, table, sender_id=CITIZEN) == [] and len(rows(app_db, table, sender_id=OTHER)) == 1
    booking = rows(store.get_engine(), store.bookings, sender_id=erase_mod.ERASED)
    assert [(b["full_name"], b["phone"], b["status"]) for b in booking] == [("ERASED", "ERASED", "cancelled")]
    assert rows(store.get_engine(), store.bookings, sender_id=OTHER)[0]["full_name"] == "Trần Thị B"
    usage = store.slot_usage("phuong_ba_dinh", vn(2027, 3, 2, 9, 0))
    assert usage is not None and usage["taken"] == 1  # the erased citizen's place was given back


async def test_retention_erases_only_what_is_older_than_the_period(app_db):
    record_handoff(CITIZEN, "zalo", "requested", "cũ")
    record(CITIZEN, "câu hỏi cũ", "declined")
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=120)
    with app_db.begin() as conn:
        conn.execute(db.handoffs.update().values(created_at=old, updated_at=old))
        conn.execute(db.unanswered.update().values(created_at=old))
    record_handoff(OTHER, "zalo", "requested", "mới")
    record(OTHER, "câu hỏi mới", "declined")
    assert store.book("phuong_ba_dinh", vn(2026, 1, 6, 9, 0), "Lê Văn C", "0987654321", channel="zalo",
                      sender_id=CITIZEN, now=vn(2026, 1, 5, 8, 0)).ok
    assert store.book("phuong_ba_dinh", vn(2027, 3, 2, 9, 0), "Lê Văn D", "0987654322", channel="zalo",
                      sender_id=OTHER, now=vn(2027, 3, 1, 7, 0)).ok
    counts = await retention.run(days=90)
    assert counts["handoffs"] == 1 and counts["unanswered"] == 1 and counts["appointment_bookings"] == 1
    assert [r["sender_id"] for r in rows(app_db, db.handoffs)] == [OTHER]
    names = sorted(r["full_name"] for r in rows(store.get_engine(), store.bookings))
    assert names == ["ERASED", "Lê Văn D"]
    assert (await retention.run(days=90))["appointment_bookings"] == 0  # idempotent
