"""Issue #8 on real processes: two Rasa servers behind one Redis (tracker store + atomic lock store), one action
server, the fake Messenger Send API and the fake one-stop dossier API, under load and under faults.

The processes are shared by the module; the tests run in file order and each one leaves the cluster working:
load first, then the dossier API hanging, the action server killed, and Redis restarted last.
"""
from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import aiohttp
import pytest

from tests.conftest import REPO, rasa_env
from tests.e2e.test_platforms_e2e import (APP_ID, APP_SECRET, FB_SECRET, PAGE_TOKEN, messenger_delivery,
                                          messenger_message, messenger_texts_to, post_messenger, wait_for)
from tests.fakes.fake_messenger import FakeMessenger
from tests.fakes.fake_zalo import FakeZalo
from tests.fakes.one_stop_api import FakeOneStopApi
from tests.fakes.processes import (LoopThread, RedisServer, free_port, http_status, start_action_server,
                                   start_rasa_server, stop_process, wait_http)

pytestmark = pytest.mark.slow

REDIS_DB = 8
DOSSIER_API_KEY = "faults-key"
RASA_TOKEN = "faults-rasa-token"        # as deployed: the Rasa API and the action server need their secrets
ACTION_TOKEN = "faults-action-token"
# (message, a piece of its answer that no other answer of the list has), checked in this order.
TALK: Sequence[Tuple[str, str]] = (
    ("chào bạn", "Xin chào"),
    ("cảm ơn nhé", "không có gì"),
    ("bạn là người hay máy", "không phải cán bộ"),
    ("tạm biệt", "đã liên hệ"),
    ("làm giấy khai sinh cần những giấy tờ gì", "khai sinh"),
)
ACTION_FAILED = "hệ thống đang bận hoặc tạm gián đoạn"
DOSSIER_UNAVAILABLE = "hệ thống tra cứu hồ sơ đang tạm gián đoạn"
LOCK_TROUBLE = re.compile(r"LockError|could not lock conversation|expired while waiting")


class Fakes(LoopThread):
    """The fake platforms and the fake one-stop API, served from a background loop."""

    def __init__(self) -> None:
        from onestop.dossiers.seed import generate_demo_dossiers

        super().__init__()
        self.messenger = FakeMessenger(page_token=PAGE_TOKEN)
        self.zalo = FakeZalo(APP_ID, APP_SECRET, access_token="at-0", refresh_token="rt-0")
        self.one_stop = FakeOneStopApi(generate_demo_dossiers(), api_key=DOSSIER_API_KEY)
        self.messenger_url = self.call(self.messenger.start())
        self.zalo_url = self.call(self.zalo.start())
        self.one_stop_url = self.call(self.one_stop.start())

    def close(self) -> None:
        """Stop the servers and the loop."""
        for server in (self.messenger, self.zalo, self.one_stop):
            self.call(server.stop())
        self.stop()


@dataclass
class Cluster:
    """The running processes of the module."""

    work: Path
    redis: RedisServer
    fakes: Fakes
    env: Dict[str, str]
    action_port: int
    rasa_urls: List[str]
    actions: subprocess.Popen
    rasas: List[subprocess.Popen]
    logs: List[Any]
    startup_ready: List[int] = field(default_factory=list)  # /webhooks/ops/ready statuses seen while starting

    def log_text(self, name: str) -> str:
        """A process log so far."""
        for f in self.logs:
            f.flush()
        return (self.work / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def start_actions(self) -> None:
        """(Re)start the action server on its port and wait until it is healthy and warmed up."""
        log = open(self.work / "actions.log", "a")
        self.logs.append(log)
        self.actions = start_action_server(self.action_port, self.env, log)
        wait_http(f"http://127.0.0.1:{self.action_port}/ready", self.actions, 180)


@pytest.fixture(scope="module")
def cluster(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Redis of our own, the fakes, one action server and two Rasa servers sharing Redis."""
    model = trained_model
    work = tmp_path_factory.mktemp("faults")
    (work / "redis").mkdir()
    redis = RedisServer(work / "redis")
    try:
        redis.start()
    except RuntimeError as exc:
        pytest.fail(f"Redis is needed for these tests: {exc}")
    fakes = Fakes()
    prefix = f"faults{uuid.uuid4().hex[:8]}"
    action_port = free_port()
    endpoints = work / "endpoints.yml"
    # As bot/endpoints.cluster.yml, with our Redis and a short lock lifetime so that a lost ticket frees quickly.
    endpoints.write_text(
        f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n"
        f"  headers:\n    X-Action-Token: {ACTION_TOKEN}\n"
        f"tracker_store:\n  type: redis\n  url: 127.0.0.1\n  port: {redis.port}\n  db: {REDIS_DB}\n"
        f"  key_prefix: {prefix}tracker\n"
        f"lock_store:\n  type: cluster.lock_store.AtomicRedisLockStore\n  url: {redis.url}/{REDIS_DB}\n"
        f"  key_prefix: {prefix}lock\n  lifetime: 15\n  max_hold: 120\n  max_wait: 60\n",
        encoding="utf-8")
    env = rasa_env()
    env.update({
        "APP_DB_PATH": str(work / "app.sqlite"), "DOSSIER_DB_PATH": str(work / "dossiers.sqlite"),
        "DOSSIER_SUBSCRIPTIONS_DB_PATH": str(work / "subs.sqlite"),
        "DOSSIER_API_URL": fakes.one_stop_url, "DOSSIER_API_KEY": DOSSIER_API_KEY,
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET": "faults-oa-secret", "ZALO_ACCESS_TOKEN": "at-0",
        "ZALO_REFRESH_TOKEN": "rt-0", "ZALO_APP_SECRET": APP_SECRET, "ZALO_API_BASE": fakes.zalo_url,
        "ZALO_OAUTH_BASE": fakes.zalo_url, "ZALO_TOKEN_FILE": str(work / "zalo_tokens.json"),
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN, "MESSENGER_APP_SECRET": FB_SECRET,
        "MESSENGER_VERIFY_TOKEN": "faults-verify", "MESSENGER_GRAPH_BASE": fakes.messenger_url,
        "REDIS_URL": f"{redis.url}/{REDIS_DB}", "CONNECTOR_TURN_RETRY_SECONDS": "60",
        "RASA_TOKEN": RASA_TOKEN, "ACTION_SERVER_TOKEN": ACTION_TOKEN,
    })
    logs = [open(work / f"{name}.log", "w") for name in ("actions", "rasa0", "rasa1")]
    rasa_ports = [free_port(), free_port()]
    actions = start_action_server(action_port, env, logs[0])
    rasas = [start_rasa_server(model, endpoints, REPO / "bot" / "credentials.platforms.yml", port, env, log)
             for port, log in zip(rasa_ports, logs[1:])]
    c = Cluster(work, redis, fakes, env, action_port, [f"http://127.0.0.1:{p}" for p in rasa_ports], actions,
                rasas, logs)
    try:
        wait_http(f"http://127.0.0.1:{action_port}/ready", actions, 240)
        deadline = time.monotonic() + 300
        for url, proc in zip(c.rasa_urls, rasas):
            while True:  # the readiness answers from the first one the server gives until it is ready
                if proc.poll() is not None:
                    raise RuntimeError(f"rasa on {url} exited with {proc.returncode}")
                status = http_status(f"{url}/webhooks/ops/ready")
                if status:
                    c.startup_ready.append(status)
                if status == 200:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not ready")
                time.sleep(0.2)
        yield c
    except RuntimeError as exc:
        pytest.fail(f"{exc}\n{c.log_text('rasa0')[-3000:]}\n{c.log_text('actions')[-2000:]}")
    finally:
        for proc in [*c.rasas, c.actions]:
            stop_process(proc)
        for f in c.logs:
            f.close()
        fakes.close()
        redis.stop()


def new_user() -> str:
    """A fresh Messenger user id."""
    return "f" + uuid.uuid4().hex[:12]


def answer_kinds(cluster: Cluster, user: str) -> List[int]:
    """Which TALK entry each answer to ``user`` belongs to (an answer sent in several parts counts once)."""
    kinds: List[int] = []
    for text in messenger_texts_to(cluster.fakes, user):
        kind = next((i for i, (_, marker) in enumerate(TALK) if marker in text), None)
        if kind is not None and not (kind == 4 and kinds and kinds[-1] == 4):
            kinds.append(kind)
    return kinds


async def send(url: str, user: str, text: str, redeliver_for: float = 0.0) -> List[int]:
    """Post one message; like Meta, deliver it again (same mid) while the answer is not 200, for
    ``redeliver_for`` seconds. Returns every status received."""
    delivery = messenger_delivery([messenger_message(user, {"text": text})])
    statuses: List[int] = []
    deadline = time.monotonic() + redeliver_for
    while True:
        try:
            statuses.append(await post_messenger(url, delivery))
        except aiohttp.ClientError:
            statuses.append(0)
        if statuses[-1] == 200 or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(0.5)


async def metric(url: str, name: str, **labels: str) -> float:
    """A sample of /webhooks/ops/metrics (0 when absent)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/webhooks/ops/metrics") as resp:
            text = await resp.text()
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    for line in text.splitlines():
        if line.startswith(name) and line[len(name):len(name) + 1] in ("{", " ") and all(w in line for w in wanted):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def ready(url: str) -> Tuple[int, Any]:
    """(status, body) of /webhooks/ops/ready."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/webhooks/ops/ready") as resp:
            return resp.status, await resp.json(content_type=None)


async def user_texts_in_tracker(url: str, user: str) -> List[str]:
    """The user messages of a conversation, as Rasa stored them (Redis)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/conversations/{user}/tracker", params={"token": RASA_TOKEN}) as resp:
            tracker = await resp.json()
    return [e.get("text") for e in tracker.get("events", []) if e.get("event") == "user"]


def test_servers_report_ready_once_started(cluster: Cluster) -> None:
    """Readiness answers 200 once the model is loaded and warmed up and Redis and the action server answer
    (Rasa loads the model before it listens, so a 503 "warming up" is rarely seen from outside)."""
    assert cluster.startup_ready and cluster.startup_ready[-1] == 200
    assert set(cluster.startup_ready) <= {200, 503}, cluster.startup_ready
    print(f"readiness while starting: {cluster.startup_ready.count(503)} x 503, then 200")


async def test_interleaved_users_on_two_servers_are_answered_once_in_order(cluster: Cluster) -> None:
    users = [new_user() for _ in range(20)]
    plan = [TALK[i % len(TALK)][0] for i in range(10)]
    expected = [i % len(TALK) for i in range(10)]
    before_in = [await metric(url, "assistant_messages_in_total", channel="messenger") for url in cluster.rasa_urls]
    before_locks = [await metric(url, "assistant_lock_acquired_total") for url in cluster.rasa_urls]

    async def talk(user: str) -> None:
        for i, text in enumerate(plan):  # back to back: each post returns before the bot has answered
            assert await send(cluster.rasa_urls[i % 2], user, text) == [200]

    started = time.monotonic()
    await asyncio.gather(*(talk(u) for u in users))
    assert await wait_for(lambda: all(len(answer_kinds(cluster, u)) >= len(plan) for u in users), 240)
    took = time.monotonic() - started
    await asyncio.sleep(2)  # a duplicate would arrive by now
    wrong = {u: answer_kinds(cluster, u) for u in users if answer_kinds(cluster, u) != expected}
    assert not wrong, f"answers out of order or repeated: {wrong}"
    for name in ("rasa0", "rasa1"):
        trouble = [line for line in cluster.log_text(name).splitlines() if LOCK_TROUBLE.search(line)]
        assert not trouble, trouble[:5]
    # The metrics show the traffic: each server took half of the 200 messages and one lock per turn.
    for url, was_in, was_locked in zip(cluster.rasa_urls, before_in, before_locks):
        assert await metric(url, "assistant_messages_in_total", channel="messenger") - was_in == 100
        assert await metric(url, "assistant_messages_out_total", channel="messenger") >= 100
        assert await metric(url, "assistant_lock_acquired_total") - was_locked >= 100
        assert await metric(url, "assistant_lock_timeouts_total") == 0
    print(f"200 interleaved messages of 20 users answered in {took:.1f} s")


async def test_hanging_dossier_api_times_out_clearly_while_others_are_answered_fast(cluster: Cluster) -> None:
    from onestop.dossiers.seed import demo_codes

    one_stop = cluster.fakes.one_stop
    code = next(codes[0] for codes in demo_codes(1).values() if codes)
    asker, others = new_user(), [new_user() for _ in range(4)]
    one_stop.mode = "hang"
    try:
        assert await send(cluster.rasa_urls[0], asker, f"tra cứu hồ sơ {code}") == [200]
        assert await wait_for(lambda: len(one_stop.requests) > 0, 20), "the lookup never reached the API"
        sent_at = time.monotonic()
        for i, user in enumerate(others):
            assert await send(cluster.rasa_urls[i % 2], user, "chào bạn") == [200]
        assert await wait_for(lambda: all(answer_kinds(cluster, u) == [0] for u in others), 20)
        answered = [r["time"] for r in list(cluster.fakes.messenger.delivered)
                    if r["body"]["recipient"]["id"] in others]
        assert max(answered) - sent_at < 5, "other citizens waited behind the hanging lookup"
        assert await wait_for(lambda: any(DOSSIER_UNAVAILABLE in t
                                          for t in messenger_texts_to(cluster.fakes, asker)), 30)
    finally:
        one_stop.mode = "ok"
    assert not any(ACTION_FAILED in t for t in messenger_texts_to(cluster.fakes, asker))
    # The API works again: the same citizen gets the dossier.
    assert await send(cluster.rasa_urls[1], asker, f"tra cứu hồ sơ {code}") == [200]
    assert await wait_for(lambda: any(code in t and DOSSIER_UNAVAILABLE not in t
                                      for t in messenger_texts_to(cluster.fakes, asker)), 30)


async def test_action_server_killed_mid_turn_gets_an_apology_then_recovers(cluster: Cluster) -> None:
    from onestop.dossiers.seed import demo_codes

    one_stop = cluster.fakes.one_stop
    code = next(codes[0] for codes in demo_codes(1).values() if codes)
    user = new_user()
    one_stop.mode = "hang"  # the lookup action is now waiting for the one-stop system
    seen = len(one_stop.requests)
    try:
        assert await send(cluster.rasa_urls[0], user, f"tra cứu hồ sơ {code}") == [200]
        assert await wait_for(lambda: len(one_stop.requests) > seen, 20), "the lookup never reached the API"
        cluster.actions.kill()  # mid-action: Rasa's request to the action server is cut
        cluster.actions.wait(timeout=10)
        assert await wait_for(lambda: any(ACTION_FAILED in t for t in messenger_texts_to(cluster.fakes, user)), 20)
    finally:
        one_stop.mode = "ok"
    assert [t for t in messenger_texts_to(cluster.fakes, user) if ACTION_FAILED in t] == \
        [t for t in messenger_texts_to(cluster.fakes, user)], "only the apology, once"
    status, body = await ready(cluster.rasa_urls[1])
    assert status == 503 and any("action server" in p for p in body["problems"]), body
    # A procedure question while the action server is down: an apology too, never silence.
    other = new_user()
    assert await send(cluster.rasa_urls[1], other, TALK[4][0]) == [200]
    assert await wait_for(lambda: any(ACTION_FAILED in t for t in messenger_texts_to(cluster.fakes, other)), 20)

    await asyncio.to_thread(cluster.start_actions)
    assert (await ready(cluster.rasa_urls[1]))[0] == 200
    for i, (text, _) in enumerate([TALK[0], TALK[4]]):
        assert await send(cluster.rasa_urls[i % 2], user, text) == [200]
    assert await wait_for(lambda: answer_kinds(cluster, user) == [0, 4], 60), messenger_texts_to(cluster.fakes, user)
    assert await send(cluster.rasa_urls[0], user, f"tra cứu hồ sơ {code}") == [200]
    assert await wait_for(lambda: any(code in t and ACTION_FAILED not in t
                                      for t in messenger_texts_to(cluster.fakes, user)), 30)
    assert_bookings_consistent(cluster.work / "app.sqlite")


async def test_action_server_killed_while_bookings_are_confirmed_leaves_none_half_made(cluster: Cluster) -> None:
    users = [new_user() for _ in range(4)]
    hours = ["8h", "9h", "10h", "14h"]
    steps = [lambda h: f"đặt lịch ở phường Ba Đình thứ 2 tuần sau lúc {h}", lambda h: "Nguyễn Văn An",
             lambda h: "0912345678"]
    for step in steps:  # each citizen up to the summary to confirm, one step after the other
        counts = [len(messenger_texts_to(cluster.fakes, u)) for u in users]
        for i, (user, hour) in enumerate(zip(users, hours)):
            assert await send(cluster.rasa_urls[i % 2], user, step(hour)) == [200]
        assert await wait_for(lambda: all(len(messenger_texts_to(cluster.fakes, u)) > n
                                          for u, n in zip(users, counts)), 60)
    for user in users:
        assert await wait_for(lambda: "Thông tin đã đúng chưa" in messenger_texts_to(cluster.fakes, user)[-1], 20), \
            messenger_texts_to(cluster.fakes, user)

    async def confirm(i: int, user: str) -> None:
        await asyncio.sleep(0.05 * i)
        assert await send(cluster.rasa_urls[i % 2], user, "đúng rồi") == [200]

    confirming = asyncio.gather(*(confirm(i, u) for i, u in enumerate(users)))
    await asyncio.sleep(0.1)  # some bookings done, some in flight, some not started
    cluster.actions.kill()
    await confirming
    cluster.actions.wait(timeout=10)

    def outcome(user: str) -> str:
        texts = messenger_texts_to(cluster.fakes, user)
        if any("Đặt lịch thành công" in t for t in texts):
            return "booked"
        return "apology" if any(ACTION_FAILED in t for t in texts) else "silence"

    assert await wait_for(lambda: all(outcome(u) != "silence" for u in users), 30), \
        {u: messenger_texts_to(cluster.fakes, u)[-1:] for u in users}
    await asyncio.to_thread(cluster.start_actions)
    assert_bookings_consistent(cluster.work / "app.sqlite")
    outcomes = [outcome(u) for u in users]
    booked = booking_rows(cluster.work / "app.sqlite", users)
    # Told "booked" means a row; an apology may still have a row (committed, then the answer was cut), which the
    # citizen's retry gets back through the idempotency key instead of a second place.
    assert {u for u, o in zip(users, outcomes) if o == "booked"} <= set(booked), (outcomes, booked)
    assert len(booked) == len(set(booked)), "a citizen booked twice"
    print(f"bookings confirmed while the action server was killed: {outcomes}")


def booking_rows(app_db: Path, users: Sequence[str]) -> List[str]:
    """The senders of the booked rows among ``users`` (one entry per row)."""
    import sqlite3

    if not app_db.exists():
        return []
    with sqlite3.connect(app_db) as conn:
        marks = ",".join("?" * len(users))
        return [r[0] for r in conn.execute(
            f"SELECT sender_id FROM appointment_bookings WHERE status = 'booked' AND sender_id IN ({marks})",
            list(users))]


def assert_bookings_consistent(app_db: Path) -> None:
    """Every booked row has its place counted in its slot and no slot counts a place nobody holds."""
    import sqlite3

    if not app_db.exists():
        return
    with sqlite3.connect(app_db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "appointment_slot_capacity" not in tables:
            return
        rows = conn.execute(
            "SELECT c.office_id, c.slot_start, c.taken, (SELECT COUNT(*) FROM appointment_bookings b WHERE "
            "b.office_id = c.office_id AND b.slot_start = c.slot_start AND b.status = 'booked') "
            "FROM appointment_slot_capacity c").fetchall()
    assert all(taken == booked for _, _, taken, booked in rows), rows


async def test_redis_restart_during_traffic_loses_and_repeats_nothing(cluster: Cluster) -> None:
    users = [new_user() for _ in range(8)]
    plan = [TALK[i % 4][0] for i in range(5)]  # small talk only: the action server is not what is tested here
    expected = [i % 4 for i in range(5)]
    for i, user in enumerate(users):
        assert await send(cluster.rasa_urls[i % 2], user, plan[0]) == [200]
    assert await wait_for(lambda: all(answer_kinds(cluster, u) == [0] for u in users), 60)

    down_ready: List[Tuple[int, Any]] = []
    restarted = threading.Event()

    def outage() -> None:
        cluster.redis.stop()
        try:
            time.sleep(1.5)
            down_ready.append(asyncio.run(ready(cluster.rasa_urls[0])))
            time.sleep(2.5)
        finally:
            cluster.redis.start()
            restarted.set()

    statuses: Dict[str, List[List[int]]] = {u: [] for u in users}

    async def talk(user: str, offset: int) -> None:
        await asyncio.sleep(offset * 0.15)
        for i, text in enumerate(plan[1:], start=1):
            statuses[user].append(await send(cluster.rasa_urls[(i + offset) % 2], user, text, redeliver_for=60))
            await asyncio.sleep(0.4)

    outage_thread = threading.Thread(target=outage)
    traffic = asyncio.gather(*(talk(u, n) for n, u in enumerate(users)))
    await asyncio.sleep(0.5)  # turns are in flight when Redis goes away
    outage_thread.start()
    await traffic
    await asyncio.to_thread(outage_thread.join, 30)
    assert restarted.is_set()

    assert await wait_for(lambda: all(len(answer_kinds(cluster, u)) >= len(plan) for u in users), 120), \
        {u: answer_kinds(cluster, u) for u in users}
    await asyncio.sleep(3)  # a duplicate would arrive by now
    wrong = {u: answer_kinds(cluster, u) for u in users if answer_kinds(cluster, u) != expected}
    assert not wrong, f"answers lost, repeated or out of order: {wrong}"
    every = [s for per_user in statuses.values() for one in per_user for s in one]
    assert all(one[-1] == 200 for per_user in statuses.values() for one in per_user), statuses
    assert set(every) <= {200, 503}, every
    assert 503 in every, "no webhook arrived while Redis was down: the outage was not exercised"
    assert down_ready and down_ready[0][0] == 503 and any("redis" in p for p in down_ready[0][1]["problems"]), \
        down_ready
    for i, user in enumerate(users):  # the trackers hold each message once, in order, whichever server reads
        assert await user_texts_in_tracker(cluster.rasa_urls[i % 2], user) == plan
    print(f"webhook statuses during the outage: {sorted(set(every))}, {every.count(503)} x 503")


async def test_a_server_shutting_down_is_not_ready_refuses_new_messages_and_finishes_its_turn(
        cluster: Cluster) -> None:
    from onestop.dossiers.seed import demo_codes

    one_stop = cluster.fakes.one_stop
    code = next(codes[0] for codes in demo_codes(1).values() if codes)
    url, proc = cluster.rasa_urls[1], cluster.rasas[1]
    user = new_user()
    seen = len(one_stop.requests)
    one_stop.mode = "hang"
    try:
        assert await send(url, user, f"tra cứu hồ sơ {code}") == [200]
        assert await wait_for(lambda: len(one_stop.requests) > seen, 20)
        proc.terminate()  # SIGTERM while the turn waits for the one-stop system
        statuses: List[Tuple[int, Any]] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (statuses and statuses[-1][0] == 503):
            try:
                statuses.append(await ready(url))
            except aiohttp.ClientError:
                statuses.append((0, None))
            await asyncio.sleep(0.1)
        refused = await send(url, new_user(), "chào bạn")
    finally:
        one_stop.mode = "ok"
    assert statuses and statuses[-1][0] == 503 and "shutting down" in statuses[-1][1]["problems"], statuses
    assert refused == [503], "a message accepted while shutting down could be lost"
    # The turn in flight was finished before the process ended.
    assert await wait_for(lambda: any(code in t for t in messenger_texts_to(cluster.fakes, user)), 30), \
        messenger_texts_to(cluster.fakes, user)
    assert await asyncio.to_thread(proc.wait, 30) == 0
