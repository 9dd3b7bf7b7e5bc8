"""The atomic lock store against a real Redis, with real processes."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import List

import pytest
import redis

from cluster.lock_store import AtomicRedisLockStore, LockError, reserve_turn, reserved_turn
from tests.conftest import REPO

pytestmark = pytest.mark.usefixtures("redis_base_url")


@pytest.fixture
def url(redis_base_url: str) -> str:
    """A Redis database of its own for these tests."""
    return redis_base_url.rsplit("/", 1)[0] + "/7"


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def worker(url: str, prefix: str, turns: int, hold: float, lifetime: float = 5.0) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "tests.cluster.lock_worker", url, prefix, "conv-1", str(turns),
                             str(hold), str(lifetime)], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)


def read_log(url: str, prefix: str) -> List[str]:
    return [x.decode() for x in redis.Redis.from_url(url).lrange(f"{prefix}:log", 0, -1)]


def test_four_processes_never_hold_the_same_conversation_at_once(url: str, prefix: str) -> None:
    procs = [worker(url, prefix, turns=10, hold=0.005) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    log = read_log(url, prefix)
    assert len(log) == 80
    for enter, leave in zip(log[0::2], log[1::2]):  # strictly in/out pairs of the same process: no overlap
        assert enter.startswith("in:") and leave == "out:" + enter[3:]
    assert len({e.split(":")[1] for e in log}) == 4


async def test_turns_are_served_in_arrival_order(url: str, prefix: str) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix)
    order: List[int] = []

    async def turn(i: int) -> None:
        await asyncio.sleep(i * 0.01)  # arrive one after the other
        async with store.lock("conv-1"):
            order.append(i)
            await asyncio.sleep(0.02)

    await asyncio.gather(*(turn(i) for i in range(10)))
    assert order == list(range(10))
    assert store.stats.acquired == 10 and store.stats.waited >= 8
    await store.aclose()


async def test_a_slow_turn_keeps_its_lock_past_the_lifetime(url: str, prefix: str) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix, lifetime=0.6)
    events: List[str] = []

    async def slow() -> None:
        async with store.lock("conv-1"):
            events.append("slow in")
            await asyncio.sleep(2.0)  # more than three lifetimes: the heartbeat keeps the ticket alive
            events.append("slow out")

    async def next_turn() -> None:
        await asyncio.sleep(0.1)
        async with store.lock("conv-1"):
            events.append("next in")

    await asyncio.gather(slow(), next_turn())
    assert events == ["slow in", "slow out", "next in"]
    await store.aclose()


async def test_a_killed_holder_releases_the_conversation_after_its_lifetime(url: str, prefix: str) -> None:
    proc = worker(url, prefix, turns=1, hold=60, lifetime=1.0)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    store = AtomicRedisLockStore(url=url, key_prefix=prefix, max_wait=10)
    started = time.monotonic()
    async with store.lock("conv-1"):
        waited = time.monotonic() - started
    assert waited < 3.0  # the dead process's ticket expired (lifetime 1 s), no endless wait
    await store.aclose()


async def test_a_stuck_conversation_gives_a_lock_error_not_an_endless_wait(url: str, prefix: str) -> None:
    holder = AtomicRedisLockStore(url=url, key_prefix=prefix)
    waiter = AtomicRedisLockStore(url=url, key_prefix=prefix, max_wait=0.5)
    async with holder.lock("conv-1"):
        with pytest.raises(LockError):
            async with waiter.lock("conv-1"):
                pass
    assert waiter.stats.timeouts == 1
    async with waiter.lock("conv-1"):  # the timed-out ticket left the queue
        pass
    await holder.aclose()
    await waiter.aclose()


async def test_tickets_reserved_at_arrival_decide_the_order_not_when_the_turn_starts(url: str, prefix: str) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix)
    first, second = await reserve_turn(store, "conv-1"), await reserve_turn(store, "conv-1")
    order: List[str] = []

    async def turn(name: str, ticket: int, delay: float) -> None:
        await asyncio.sleep(delay)
        async with reserved_turn(store, "conv-1", ticket):
            async with store.lock("conv-1"):
                order.append(name)

    # The second message's turn starts first (another server was idle), yet the first message is served first.
    await asyncio.gather(turn("first", first, 0.3), turn("second", second, 0.0))
    assert order == ["first", "second"]
    await store.aclose()


async def test_an_expired_reservation_still_gets_its_turn(url: str, prefix: str) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix, lifetime=0.3)
    ticket = await store.reserve("conv-1")
    await asyncio.sleep(0.5)  # waited in a local queue longer than the lifetime...
    async with store.lock("conv-1"):  # ...while a later turn went past it
        pass
    async with reserved_turn(store, "conv-1", ticket):
        async with store.lock("conv-1"):
            pass
    assert store.stats.lost == 1 and store.stats.acquired == 2
    await store.aclose()


async def test_a_turn_retried_after_a_redis_outage_keeps_its_place(url: str, prefix: str) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix, max_wait=5)
    first, second = await reserve_turn(store, "conv-1"), await reserve_turn(store, "conv-1")
    order: List[str] = []

    async def first_turn() -> None:
        async with reserved_turn(store, "conv-1", first):
            with pytest.raises(redis.exceptions.ConnectionError):
                async with store.lock("conv-1"):  # the tracker store lost Redis mid-turn
                    raise redis.exceptions.ConnectionError("Connection closed by server.")
            await asyncio.sleep(0.3)  # the connector's backoff: the next message's turn is waiting meanwhile
            async with store.lock("conv-1"):
                order.append("first")

    async def second_turn() -> None:
        async with reserved_turn(store, "conv-1", second):
            async with store.lock("conv-1"):
                order.append("second")

    await asyncio.gather(first_turn(), second_turn())
    assert order == ["first", "second"]
    await store.aclose()


async def test_reserving_raises_when_redis_is_unreachable_so_the_webhook_refuses(prefix: str) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = AtomicRedisLockStore(url=f"redis://127.0.0.1:{port}/0", key_prefix=prefix)
    with pytest.raises(redis.exceptions.ConnectionError):
        await reserve_turn(store, "conv-1")
    await store.aclose()


async def test_a_reservation_without_a_bot_turn_is_released_at_once(url: str, prefix: str) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix, max_wait=2)
    ticket = await reserve_turn(store, "conv-1")
    async with reserved_turn(store, "conv-1", ticket):
        pass  # a sticker: answered by the connector, no lock taken
    started = time.monotonic()
    async with store.lock("conv-1"):
        pass
    assert time.monotonic() - started < 0.5


def test_registered_by_module_path_in_endpoints(url: str) -> None:
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    cfg = EndpointConfig(url=url, type="cluster.lock_store.AtomicRedisLockStore", key_prefix="x", max_wait=7)
    store = LockStore.create(cfg)
    assert isinstance(store, AtomicRedisLockStore) and store.max_wait == 7 and store.url == url
