"""Proof of ownership by the last 4 digits of the phone: lockout, no hints, shared counts in Redis."""

from __future__ import annotations

import asyncio
from typing import List

import pytest

from onestop.dossiers import ownership as ownership_mod
from onestop.dossiers.backend import BackendUnavailable, DemoDossierBackend
from onestop.dossiers.ownership import (
    MemoryAttemptStore,
    OwnershipGuard,
    ProofResult,
    RedisAttemptStore,
    extract_last4,
    make_attempt_store,
)
from onestop.dossiers.seed import demo_codes, demo_dossier
from tests.dossiers.helpers import close_redis

CODE = demo_codes(1)["processing"][0]
OTHER_CODE = demo_codes(1)["ready"][0]
RIGHT = demo_dossier(CODE).applicant_phone[-4:]  # type: ignore[union-attr]
OTHER_RIGHT = demo_dossier(OTHER_CODE).applicant_phone[-4:]  # type: ignore[union-attr]


def _near_misses(right: str) -> List[str]:
    """Guesses that are 'close' in every sense: one digit off, +/-1, digits swapped, and far ones."""
    n = int(right)
    close = {
        f"{(n + 1) % 10000:04d}",
        f"{(n - 1) % 10000:04d}",
        right[:3] + str((int(right[3]) + 1) % 10),
        right[::-1],
        right[1:] + right[0],
    }
    far = {"9999", "1234"}
    return [g for g in sorted(close | far) if g != right]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def guard(sqlite_backend: DemoDossierBackend, clock: FakeClock) -> OwnershipGuard:
    return OwnershipGuard(sqlite_backend, MemoryAttemptStore(clock=clock))


async def test_right_proof(guard: OwnershipGuard) -> None:
    assert await guard.check("zalo:1", CODE, RIGHT) is ProofResult.OK
    assert (
        await guard.check("zalo:1", CODE.lower(), f"số cuối là {RIGHT[:2]} {RIGHT[2:]} ạ") is ProofResult.OK
    )


async def test_wrong_then_lockout_after_three(guard: OwnershipGuard) -> None:
    wrong = _near_misses(RIGHT)
    assert await guard.check("s", CODE, wrong[0]) is ProofResult.WRONG
    assert await guard.check("s", CODE, wrong[1]) is ProofResult.WRONG
    assert await guard.check("s", CODE, wrong[2]) is ProofResult.LOCKED
    assert await guard.is_locked("s", CODE)
    # while locked even the right answer is refused
    assert await guard.check("s", CODE, RIGHT) is ProofResult.LOCKED
    assert await guard.check("s", CODE, RIGHT) is ProofResult.LOCKED


async def test_lockout_is_per_code_for_every_sender(guard: OwnershipGuard) -> None:
    for _ in range(3):
        await guard.check("attacker", CODE, "0000" if RIGHT != "0000" else "1111")
    assert await guard.check("attacker", CODE, RIGHT) is ProofResult.LOCKED
    # issue 13: a fresh sender id gets no fresh guesses (the owner goes to the one-stop office, or waits)
    assert await guard.check("owner", CODE, RIGHT) is ProofResult.LOCKED
    assert await guard.check("attacker", OTHER_CODE, OTHER_RIGHT) is ProofResult.OK


async def test_lockout_ends_after_the_configured_time(
    sqlite_backend: DemoDossierBackend, clock: FakeClock
) -> None:
    guard = OwnershipGuard(sqlite_backend, MemoryAttemptStore(clock=clock), lockout_seconds=600)
    for _ in range(3):
        await guard.check("s", CODE, "0000" if RIGHT != "0000" else "1111")
    clock.now += 599
    assert await guard.check("s", CODE, RIGHT) is ProofResult.LOCKED
    clock.now += 2
    assert await guard.check("s", CODE, RIGHT) is ProofResult.OK


async def test_default_lockout_is_thirty_minutes(sqlite_backend: DemoDossierBackend) -> None:
    guard = OwnershipGuard(sqlite_backend)
    assert guard.lockout_seconds == 30 * 60 and guard.max_failures == 3
    configured = OwnershipGuard.from_env(
        sqlite_backend, {"DOSSIER_PROOF_LOCKOUT_SECONDS": "60", "DOSSIER_PROOF_MAX_FAILURES": "5"}
    )
    assert configured.lockout_seconds == 60 and configured.max_failures == 5
    assert isinstance(configured.store, MemoryAttemptStore)


async def test_close_guesses_get_exactly_the_same_result_as_far_ones(
    sqlite_backend: DemoDossierBackend,
) -> None:
    results = []
    for i, guess in enumerate(_near_misses(RIGHT)):
        fresh = OwnershipGuard(sqlite_backend, MemoryAttemptStore())
        results.append(
            (await fresh.check(f"s{i}", CODE, guess), await fresh.store.failures(fresh._key(f"s{i}", CODE)))
        )
    assert set(results) == {(ProofResult.WRONG, 1)}


async def test_success_resets_the_count(guard: OwnershipGuard) -> None:
    wrong = "0000" if RIGHT != "0000" else "1111"
    await guard.check("s", CODE, wrong)
    await guard.check("s", CODE, wrong)
    assert await guard.check("s", CODE, RIGHT) is ProofResult.OK
    assert await guard.check("s", CODE, wrong) is ProofResult.WRONG
    assert await guard.check("s", CODE, wrong) is ProofResult.WRONG


async def test_not_four_digits_is_invalid_and_not_counted(guard: OwnershipGuard) -> None:
    for text in ("không nhớ", "12345", "0912000045", "", "12 3"):
        assert await guard.check("s", CODE, text) is ProofResult.INVALID
    assert await guard.check("s", CODE, RIGHT) is ProofResult.OK
    assert extract_last4(" 0 0 4 5 ") == "0045" and extract_last4("045") is None
    assert extract_last4("０４５６") == "0456" and extract_last4(None) is None


async def test_unknown_code_fails_like_a_wrong_guess(guard: OwnershipGuard) -> None:
    assert await guard.check("s", "000.00.11.H26-261119-9999", RIGHT) is ProofResult.WRONG


async def test_digits_compared_in_constant_time(
    guard: OwnershipGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = ownership_mod.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(ownership_mod.hmac, "compare_digest", spy)
    assert await guard.check("s", CODE, RIGHT) is ProofResult.OK
    assert calls == [(RIGHT.encode(), RIGHT.encode())]


async def test_parallel_guesses_cannot_exceed_the_limit(guard: OwnershipGuard) -> None:
    wrong = [g for g in _near_misses(RIGHT)][:2] + ["0000", "1111", "2222", "3333", "4444", "5555"]
    wrong = [g for g in wrong if g != RIGHT] + [RIGHT]
    results = await asyncio.gather(*(guard.check("s", CODE, g) for g in wrong))
    assert results.count(ProofResult.OK) == 0
    assert results.count(ProofResult.WRONG) == 2
    assert await guard.check("s", CODE, RIGHT) is ProofResult.LOCKED


async def test_backend_down_is_reported_and_not_counted(clock: FakeClock) -> None:
    class Down(DemoDossierBackend):
        async def get(self, code: str):  # type: ignore[override]
            raise BackendUnavailable("timeout")

    guard = OwnershipGuard(Down(":memory:"), MemoryAttemptStore(clock=clock))
    for _ in range(5):
        with pytest.raises(BackendUnavailable):
            await guard.check("s", CODE, RIGHT)
    assert await guard.store.failures(guard._key("s", CODE)) == 0


# ------------------------------------------------------------------------------------------------ Redis


async def test_redis_store_is_shared_by_two_guards(
    sqlite_backend: DemoDossierBackend, redis_base_url: str, redis_prefix: str
) -> None:
    store_a = RedisAttemptStore(redis_base_url, prefix=redis_prefix)
    store_b = RedisAttemptStore(redis_base_url, prefix=redis_prefix)
    guard_a = OwnershipGuard(sqlite_backend, store_a)  # two action-server instances
    guard_b = OwnershipGuard(sqlite_backend, store_b)
    wrong = "0000" if RIGHT != "0000" else "1111"
    try:
        assert await guard_a.check("s", CODE, wrong) is ProofResult.WRONG
        assert await guard_b.check("s", CODE, wrong) is ProofResult.WRONG
        assert await guard_a.check("s", CODE, wrong) is ProofResult.LOCKED
        assert await guard_b.check("s", CODE, RIGHT) is ProofResult.LOCKED
        assert await guard_a.check("s", CODE, RIGHT) is ProofResult.LOCKED
        # other senders are locked out of that code too, other codes are unaffected, across instances
        assert await guard_b.check("t", CODE, RIGHT) is ProofResult.LOCKED
        assert await guard_a.check("s", OTHER_CODE, OTHER_RIGHT) is ProofResult.OK

        import redis.asyncio as aioredis

        client = aioredis.from_url(redis_base_url)
        try:
            key = redis_prefix + guard_a._key("s", CODE)
            assert int(await client.get(key)) == 3
            assert 0 < await client.ttl(key) <= 30 * 60  # expires: the lock ends by itself
            keys = [k.decode() async for k in client.scan_iter(match=redis_prefix + "*")]
            assert all(CODE not in k and "s" != k for k in keys)  # no codes or sender ids in clear
        finally:
            await close_redis(client)
    finally:
        await store_a.close()
        await store_b.close()


async def test_redis_lock_expires(
    sqlite_backend: DemoDossierBackend, redis_base_url: str, redis_prefix: str
) -> None:
    store = RedisAttemptStore(redis_base_url, prefix=redis_prefix)
    guard = OwnershipGuard(sqlite_backend, store, lockout_seconds=1)
    try:
        for _ in range(3):
            await guard.check("s", CODE, "0000" if RIGHT != "0000" else "1111")
        assert await guard.check("s", CODE, RIGHT) is ProofResult.LOCKED
        await asyncio.sleep(1.3)
        assert await guard.check("s", CODE, RIGHT) is ProofResult.OK
    finally:
        await store.close()


async def test_redis_parallel_guesses_across_instances(
    sqlite_backend: DemoDossierBackend, redis_base_url: str, redis_prefix: str
) -> None:
    stores = [RedisAttemptStore(redis_base_url, prefix=redis_prefix) for _ in range(3)]
    guards = [OwnershipGuard(sqlite_backend, s) for s in stores]
    guesses = [f"{i:04d}" for i in range(20) if f"{i:04d}" != RIGHT][:9]
    try:
        results = await asyncio.gather(*(guards[i % 3].check("s", CODE, g) for i, g in enumerate(guesses)))
        assert results.count(ProofResult.WRONG) == 2
        assert results.count(ProofResult.LOCKED) == len(guesses) - 2
    finally:
        for s in stores:
            await s.close()


async def test_redis_down_fails_closed(sqlite_backend: DemoDossierBackend) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = RedisAttemptStore(f"redis://127.0.0.1:{port}/0")
    guard = OwnershipGuard(sqlite_backend, store)
    try:
        with pytest.raises(BackendUnavailable) as info:
            await guard.check("s", CODE, RIGHT)
        assert info.value.reason == "attempt_store"
    finally:
        await store.close()


def test_store_factory() -> None:
    assert isinstance(make_attempt_store({}), MemoryAttemptStore)
    store = make_attempt_store({"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert isinstance(store, RedisAttemptStore) and not store._redis.opened  # connects on first use only
