"""Status-change notifications via the Rasa server (a local fake over real HTTP), within platform windows."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path
from typing import AsyncIterator

import pytest

from onestop.dossiers.backend import BackendUnavailable, HttpDossierBackend, DemoDossierBackend
from onestop.dossiers.notifier import (
    EXTERNAL_INTENT,
    Notifier,
    messaging_window,
    within_window,
)
from onestop.dossiers.seed import demo_codes, generate_demo_dossiers
from onestop.dossiers.subscriptions import (
    RESULT_GAVE_UP,
    RESULT_OUTSIDE_WINDOW,
    RESULT_SENT,
    SubscriptionStore,
)
from tests.fakes.one_stop_api import FakeOneStopApi
from tests.fakes.rasa_server import FakeRasaServer

REPO = Path(__file__).resolve().parents[2]
CODE = demo_codes(1)["processing"][0]
CODE2 = demo_codes(1)["signing"][0]
HOUR = dt.timedelta(hours=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture
async def notifier(
    sqlite_backend: DemoDossierBackend, subscription_store: SubscriptionStore, fake_rasa: FakeRasaServer
) -> AsyncIterator[Notifier]:
    n = Notifier(sqlite_backend, subscription_store, fake_rasa.base_url, timeout=2.0)
    yield n
    await n.close()


async def _subscribe(
    store: SubscriptionStore,
    backend: DemoDossierBackend,
    sender: str,
    channel: str,
    code: str,
    last_message_ago: dt.timedelta,
) -> None:
    d = await backend.get(code)
    assert d is not None
    await store.subscribe(sender, channel, code, d.status.value, now=_now() - last_message_ago)


async def test_change_within_window_triggers_one_intent(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "1234567890123456789", "facebook", CODE, HOUR)
    assert await notifier.run_once() == []  # first poll: nothing changed since the citizen looked
    await sqlite_backend.set_status(CODE, "ready")
    outcomes = await notifier.run_once()
    assert [(o.code, o.status, o.result) for o in outcomes] == [(CODE, "ready", RESULT_SENT)]
    assert len(fake_rasa.calls) == 1
    call = fake_rasa.calls[0]
    assert call["sender_id"] == "1234567890123456789"
    assert call["query"] == {"output_channel": "latest"}
    assert call["json"] == {
        "name": EXTERNAL_INTENT,
        "entities": {"dossier_code": CODE, "dossier_status": "ready"},
    }
    sub = await subscription_store.get("1234567890123456789", CODE)
    assert sub is not None and sub.last_status == "ready" and sub.last_result == RESULT_SENT
    assert sub.notified_at is not None and sub.pending_status is None


async def test_no_duplicate_when_run_twice(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "u1", "zalo", CODE, HOUR)
    await sqlite_backend.set_status(CODE, "fee_due")
    await notifier.run_once()
    await notifier.run_once()
    assert len(fake_rasa.calls) == 1
    # a later change is told too, once
    await sqlite_backend.set_status(CODE, "ready")
    await notifier.run_once()
    await notifier.run_once()
    assert [c["json"]["entities"]["dossier_status"] for c in fake_rasa.calls] == ["fee_due", "ready"]


async def test_unchanged_status_sends_nothing(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "u1", "facebook", CODE, HOUR)
    # touched (e.g. a note added) but the status is the same
    await sqlite_backend.set_status(CODE, "processing", next_step_vi="Cán bộ đang xác minh thêm.")
    assert await notifier.run_once() == []
    assert fake_rasa.calls == []
    # another dossier changed, nobody subscribed to it
    await sqlite_backend.set_status(CODE2, "ready")
    assert await notifier.run_once() == []
    assert fake_rasa.calls == []


async def test_outside_window_is_recorded_and_kept(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "fb-user", "facebook", CODE, 25 * HOUR)
    await sqlite_backend.set_status(CODE, "supplement_required")
    outcomes = await notifier.run_once()
    assert [(o.code, o.result) for o in outcomes] == [(CODE, RESULT_OUTSIDE_WINDOW)]
    assert fake_rasa.calls == []
    sub = await subscription_store.get("fb-user", CODE)
    assert sub is not None  # kept
    assert sub.last_result == "not_sent: outside_window"
    assert sub.pending_status == "supplement_required" and sub.last_status == "processing"
    await notifier.run_once()
    assert fake_rasa.calls == []
    # the citizen writes again: the window reopens and the pending change is told, once
    await subscription_store.touch("fb-user")
    await notifier.run_once()
    await notifier.run_once()
    assert [c["json"]["entities"]["dossier_status"] for c in fake_rasa.calls] == ["supplement_required"]
    sub = await subscription_store.get("fb-user", CODE)
    assert sub is not None and sub.last_result == RESULT_SENT and sub.pending_status is None


async def test_windows_per_channel(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    cases = {  # sender: (channel, silence, told?)
        "zalo-3d": ("zalo", 3 * 24 * HOUR, True),
        "zalo-8d": ("zalo", 8 * 24 * HOUR, False),
        "fb-23h": ("facebook", 23 * HOUR, True),
        "fb-2d": ("facebook", 48 * HOUR, False),
        "rest-30d": ("rest", 30 * 24 * HOUR, True),
    }
    for sender, (channel, ago, _) in cases.items():
        await _subscribe(subscription_store, sqlite_backend, sender, channel, CODE, ago)
    await sqlite_backend.set_status(CODE, "ready")
    outcomes = {o.sender_id: o.result for o in await notifier.run_once()}
    assert outcomes == {
        s: RESULT_SENT if told else RESULT_OUTSIDE_WINDOW for s, (_, _, told) in cases.items()
    }
    assert sorted(c["sender_id"] for c in fake_rasa.calls) == sorted(s for s, c in cases.items() if c[2])


def test_window_policy() -> None:
    now = _now()
    assert messaging_window("facebook") == dt.timedelta(hours=24)
    assert messaging_window("zalo") == dt.timedelta(days=7)
    assert messaging_window("zalo", zalo_free_only=True) == dt.timedelta(hours=48)
    assert messaging_window("rest") is None and messaging_window("socketio") is None
    assert within_window("facebook", now - 23 * HOUR, now)
    assert not within_window("facebook", now - 24 * HOUR, now)  # the limit itself is too late to send
    assert within_window("zalo", now - 6 * 24 * HOUR, now)
    assert not within_window("zalo", now - 3 * 24 * HOUR, now, zalo_free_only=True)
    assert within_window("rest", now - 365 * 24 * HOUR, now)


async def test_rasa_token_and_failures_are_retried(
    sqlite_backend: DemoDossierBackend, subscription_store: SubscriptionStore
) -> None:
    rasa = FakeRasaServer(token="s3cret")
    await rasa.start()
    notifier = Notifier(sqlite_backend, subscription_store, rasa.base_url, rasa_token="s3cret", timeout=2.0)
    try:
        await _subscribe(subscription_store, sqlite_backend, "u1", "zalo", CODE, HOUR)
        await sqlite_backend.set_status(CODE, "signing")
        rasa.status = 500
        outcomes = await notifier.run_once()
        assert [o.result for o in outcomes] == ["error: HTTP 500"]
        assert rasa.calls[0]["query"] == {"output_channel": "latest", "token": "s3cret"}
        sub = await subscription_store.get("u1", CODE)
        assert sub is not None and sub.last_status == "processing" and sub.pending_status == "signing"
        rasa.status = 200
        outcomes = await notifier.run_once()  # no longer in the change feed, but still pending
        assert [o.result for o in outcomes] == [RESULT_SENT]
        await notifier.run_once()
        assert len(rasa.calls) == 2
    finally:
        await notifier.close()
        await rasa.stop()


async def test_gives_up_after_repeated_errors(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "u1", "rest", CODE, HOUR)
    await sqlite_backend.set_status(CODE, "ready")
    fake_rasa.status = 500
    results = [o.result for _ in range(7) for o in await notifier.run_once()]
    assert results == ["error: HTTP 500"] * 4 + [RESULT_GAVE_UP]
    sub = await subscription_store.get("u1", CODE)
    assert sub is not None and sub.pending_status is None and sub.last_result == RESULT_GAVE_UP


async def test_backend_down_keeps_the_cursor(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "u1", "facebook", CODE, HOUR)
    await notifier.run_once()
    cursor = await subscription_store.get_cursor()

    async def down(ts: dt.datetime) -> list:
        raise BackendUnavailable("timeout")

    await sqlite_backend.set_status(CODE, "ready")
    monkeypatch.setattr(sqlite_backend, "changed_since", down)
    with pytest.raises(BackendUnavailable):
        await notifier.run_once()
    assert await subscription_store.get_cursor() == cursor
    monkeypatch.undo()
    await notifier.run_once()  # back up: the change made while it was down is told
    assert len(fake_rasa.calls) == 1


async def test_purge_removes_finished_and_idle_subscriptions(subscription_store: SubscriptionStore) -> None:
    now = _now()
    await subscription_store.subscribe("done", "zalo", CODE, "ready", now=now - 20 * 24 * HOUR)
    await subscription_store.mark_sent("done", CODE, "returned", now=now - 10 * 24 * HOUR)
    await subscription_store.subscribe("idle", "rest", CODE, "processing", now=now - 100 * 24 * HOUR)
    await subscription_store.subscribe("active", "zalo", CODE, "processing", now=now - HOUR)
    assert await subscription_store.purge(now=now) == 2
    assert [s.sender_id for s in await subscription_store.all()] == ["active"]


async def test_subscription_store_basics(subscription_store: SubscriptionStore) -> None:
    sub = await subscription_store.subscribe("u1", "zalo", CODE.lower(), "processing")
    assert sub.code == CODE and sub.channel == "zalo"
    again = await subscription_store.subscribe("u1", "facebook", CODE, "ready")  # idempotent, refreshed
    assert again.channel == "facebook" and again.last_status == "ready"
    await subscription_store.subscribe("u1", "facebook", CODE2, "signing")
    assert len(await subscription_store.for_sender("u1")) == 2
    assert await subscription_store.unsubscribe("u1", CODE) == 1
    assert await subscription_store.unsubscribe("u1") == 1
    assert await subscription_store.all() == []


async def test_end_to_end_over_http_backend(
    subscription_store: SubscriptionStore, fake_api: FakeOneStopApi, fake_rasa: FakeRasaServer
) -> None:
    for d in generate_demo_dossiers()[:20]:
        fake_api.add(d)
    code = generate_demo_dossiers()[1].code
    backend = HttpDossierBackend(fake_api.base_url, "test-key", timeout=2.0, attempt_timeout=1.0)
    notifier = Notifier(backend, subscription_store, fake_rasa.base_url, timeout=2.0)
    try:
        d = await backend.get(code)
        assert d is not None
        await subscription_store.subscribe("zalo-42", "zalo", code, d.status.value)
        await notifier.run_once()
        fake_api.set_status(code, "fee_due")
        fake_api.fail_next = 1  # a transient 500 on the poll is absorbed by the client's retry
        await notifier.run_once()
        assert [(c["sender_id"], c["json"]["entities"]) for c in fake_rasa.calls] == [
            ("zalo-42", {"dossier_code": code, "dossier_status": "fee_due"})
        ]
    finally:
        await notifier.close()


async def test_cli_once(tmp_path: Path, fake_rasa: FakeRasaServer) -> None:
    db, subs = tmp_path / "d.sqlite", tmp_path / "s.sqlite"
    backend, store = DemoDossierBackend(db), SubscriptionStore(subs)
    await _subscribe(store, backend, "cli-user", "zalo", CODE, HOUR)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        DOSSIER_DB_PATH=str(db),
        DOSSIER_SUBSCRIPTIONS_DB_PATH=str(subs),
        APP_DB_PATH=str(tmp_path / "app.sqlite"),  # the notifications table
        RASA_URL=fake_rasa.base_url,
    )
    env.pop("DATABASE_URL", None)
    env.pop("DOSSIER_API_URL", None)
    env.pop("RASA_TOKEN", None)

    async def run_cli() -> str:
        # asyncio subprocess: the fake Rasa server lives on this test's event loop and must keep answering.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "onestop.dossiers.notifier",
            "--once",
            env=env,
            cwd=str(REPO),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    await run_cli()
    await backend.set_status(CODE, "ready")
    out = await run_cli()
    assert f"{CODE}\tready" in out and "\tsent" in out and "cli-user" not in out
    await run_cli()
    assert [c["sender_id"] for c in fake_rasa.calls] == ["cli-user"]


async def test_run_forever_stops_on_request(
    notifier: Notifier,
    sqlite_backend: DemoDossierBackend,
    subscription_store: SubscriptionStore,
    fake_rasa: FakeRasaServer,
) -> None:
    await _subscribe(subscription_store, sqlite_backend, "u1", "rest", CODE, HOUR)
    await notifier.run_once()
    await sqlite_backend.set_status(CODE, "ready")
    stop = asyncio.Event()
    task = asyncio.create_task(notifier.run_forever(0.05, stop))
    for _ in range(100):
        if fake_rasa.calls:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert len(fake_rasa.calls) == 1
