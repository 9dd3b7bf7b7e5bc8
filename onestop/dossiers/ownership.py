"""Proof that a dossier belongs to the person chatting: the last 4 digits of the phone number on it.

Only after that proof may the bot show the applicant's personal details. Three wrong answers lock the proof of
that code for that sender (30 minutes by default); while locked, even the right answer is refused, and every
wrong answer gets the same result, so the bot never hints that a guess was close. Two wider limits stop a caller
who changes sender ids or codes: wrong answers for one code from all senders together
(DOSSIER_PROOF_MAX_FAILURES_PER_CODE, 3), and wrong answers of one sender over all codes
(DOSSIER_PROOF_MAX_FAILURES_PER_SENDER, 6). Failure counts live in an `AttemptStore`: in memory for one process, or
Redis (REDIS_URL) so that several action-server instances share them. A success is recorded in the proof store
(onestop.dossiers.proofs), which is what the details action checks.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import os
import time
from enum import Enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from infra.redis_client import AsyncRedis, redis_url
from onestop.dossiers.backend import BackendUnavailable, DossierBackend
from onestop.dossiers.model import ascii_digits, canonical_code, phone_digits
from onestop.dossiers.proofs import MemoryProofStore, ProofStore, make_proof_store

DEFAULT_MAX_FAILURES = 3
DEFAULT_MAX_FAILURES_PER_CODE = 3  # a fresh sender id gets no fresh guesses
DEFAULT_MAX_FAILURES_PER_SENDER = 6
DEFAULT_LOCKOUT_SECONDS = 30 * 60


class ProofResult(str, Enum):
    """Outcome of one proof attempt."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    # Not 4 digits ("không nhớ", a whole phone number): not counted as a guess, the bot just asks again.
    INVALID = "invalid"


def extract_last4(text: Optional[str]) -> Optional[str]:
    """The 4 digits a citizen typed ("0 0 4 5", "số cuối 0045 ạ"), or None when it is not exactly 4 digits."""
    digits = ascii_digits(text)
    return digits if len(digits) == 4 else None


class AttemptStore(abc.ABC):
    """Counts proof attempts per key until a success resets them; a count expires ``ttl`` s after its last."""

    @abc.abstractmethod
    async def failures(self, key: str) -> int:
        """Current failure count for ``key`` (0 when none or expired)."""

    @abc.abstractmethod
    async def add_failure(self, key: str, ttl: int) -> int:
        """Count one more attempt and (re)start its expiry; return the new count, atomically."""

    @abc.abstractmethod
    async def reset(self, key: str) -> None:
        """Forget the failures of ``key``."""

    async def add_failures(self, keys: List[str], ttl: int) -> List[int]:
        """Count one more attempt for each key, all or none at once; the new counts in order."""
        return [await self.add_failure(key, ttl) for key in keys]  # atomic here: no await between for memory

    async def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing
        """Release connections."""


class MemoryAttemptStore(AttemptStore):
    """Failure counts in this process only (the embedded default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._data: Dict[str, Tuple[int, float]] = {}

    def _live(self, key: str) -> int:
        entry = self._data.get(key)
        if entry is None:
            return 0
        count, expires = entry
        if self._clock() >= expires:
            del self._data[key]
            return 0
        return count

    async def failures(self, key: str) -> int:
        """Current failure count for ``key``."""
        return self._live(key)

    async def add_failure(self, key: str, ttl: int) -> int:
        """Count one more attempt; no await inside, so it is atomic on the event loop."""
        count = self._live(key) + 1
        self._data[key] = (count, self._clock() + ttl)
        if len(self._data) > self._max_keys:
            self._sweep()
        return count

    async def reset(self, key: str) -> None:
        """Forget the failures of ``key``."""
        self._data.pop(key, None)

    def _sweep(self) -> None:
        # Bounded memory: drop expired entries, then the oldest-expiring ones if still too many.
        now = self._clock()
        for key in [k for k, (_, exp) in self._data.items() if exp <= now]:
            del self._data[key]
        if len(self._data) > self._max_keys:
            for key, _ in sorted(self._data.items(), key=lambda kv: kv[1][1])[
                : len(self._data) - self._max_keys
            ]:
                del self._data[key]


class RedisAttemptStore(AttemptStore):
    """Failure counts in Redis, shared by every action-server instance (INCR + EXPIRE in one transaction)."""

    def __init__(self, url: str, prefix: str = "dossier:proof:") -> None:
        self.url = url
        self.prefix = prefix
        self._redis = AsyncRedis(url)

    async def _call(self, op: Callable[[Any], Any]) -> Any:
        # Fail closed: without the counter we cannot enforce the limit, so no proof is accepted.
        return await self._redis.call(op, lambda detail: BackendUnavailable("attempt_store", detail))

    async def failures(self, key: str) -> int:
        """Current failure count for ``key``."""
        value = await self._call(lambda r: r.get(self.prefix + key))
        return int(value) if value is not None else 0

    async def add_failure(self, key: str, ttl: int) -> int:
        """INCR and EXPIRE in a MULTI/EXEC transaction, so concurrent instances never lose a count."""

        async def op(r: Any) -> int:
            async with r.pipeline(transaction=True) as pipe:
                pipe.incr(self.prefix + key)
                pipe.expire(self.prefix + key, int(ttl))
                count, _ = await pipe.execute()
            return int(count)

        return await self._call(op)

    async def add_failures(self, keys: List[str], ttl: int) -> List[int]:
        """Every INCR and EXPIRE in one MULTI/EXEC: concurrent guesses see the counters move together."""

        async def op(r: Any) -> List[int]:
            async with r.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.incr(self.prefix + key)
                    pipe.expire(self.prefix + key, int(ttl))
                results = await pipe.execute()
            return [int(c) for c in results[0::2]]

        return await self._call(op)

    async def reset(self, key: str) -> None:
        """Forget the failures of ``key``."""
        await self._call(lambda r: r.delete(self.prefix + key))

    async def close(self) -> None:
        """Close the Redis connection pool."""
        await self._redis.close()


def make_attempt_store(env: Optional[Mapping[str, str]] = None) -> AttemptStore:
    """Redis when REDIS_URL is set, else in-memory."""
    url = redis_url(env=env)
    return RedisAttemptStore(url) if url else MemoryAttemptStore()


class OwnershipGuard:
    """Checks last-4-digit proofs with a per-(sender, code) lockout."""

    def __init__(
        self,
        backend: DossierBackend,
        store: Optional[AttemptStore] = None,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        lockout_seconds: int = DEFAULT_LOCKOUT_SECONDS,
        max_failures_per_code: int = DEFAULT_MAX_FAILURES_PER_CODE,
        max_failures_per_sender: int = DEFAULT_MAX_FAILURES_PER_SENDER,
        proofs: Optional[ProofStore] = None,
    ) -> None:
        self.backend = backend
        self.store = store or MemoryAttemptStore()
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self.max_failures_per_code = max_failures_per_code
        self.max_failures_per_sender = max_failures_per_sender
        self.proofs = proofs or MemoryProofStore()

    @classmethod
    def from_env(cls, backend: DossierBackend, env: Optional[Mapping[str, str]] = None) -> "OwnershipGuard":
        """Guard configured by REDIS_URL, DOSSIER_PROOF_MAX_FAILURES and DOSSIER_PROOF_LOCKOUT_SECONDS."""
        env = os.environ if env is None else env
        return cls(
            backend,
            make_attempt_store(env),
            max_failures=int(env.get("DOSSIER_PROOF_MAX_FAILURES") or DEFAULT_MAX_FAILURES),
            lockout_seconds=int(env.get("DOSSIER_PROOF_LOCKOUT_SECONDS") or DEFAULT_LOCKOUT_SECONDS),
            max_failures_per_code=int(env.get("DOSSIER_PROOF_MAX_FAILURES_PER_CODE")
                                      or DEFAULT_MAX_FAILURES_PER_CODE),
            max_failures_per_sender=int(env.get("DOSSIER_PROOF_MAX_FAILURES_PER_SENDER")
                                        or DEFAULT_MAX_FAILURES_PER_SENDER),
            proofs=make_proof_store(env),
        )

    @staticmethod
    def _key(sender_id: str, code: str) -> str:
        # Hashed: the store (possibly a shared Redis) needs no sender ids or dossier codes in clear.
        return hashlib.sha256(f"{sender_id}\x00{code}".encode("utf-8")).hexdigest()[:40]

    def _keys(self, sender_id: str, code: str) -> Dict[str, int]:
        """Counter key -> its limit: the (sender, code) pair, the code for everyone, the sender for every code."""
        return {
            self._key(sender_id, code): self.max_failures,
            "code:" + self._key("", code): self.max_failures_per_code,
            "sender:" + self._key(sender_id, ""): self.max_failures_per_sender,
        }

    async def _locked(self, keys: Dict[str, int]) -> bool:
        for key, limit in keys.items():
            if await self.store.failures(key) >= limit:
                return True
        return False

    async def is_locked(self, sender_id: str, code: str) -> bool:
        """True while ``sender_id`` may not try proofs for ``code``."""
        return await self._locked(self._keys(sender_id, canonical_code(code)))

    async def is_proved(self, sender_id: str, code: str) -> bool:
        """True while ``sender_id`` holds a valid proof for ``code`` (granted by :meth:`check`)."""
        return await self.proofs.has(sender_id, canonical_code(code))

    async def check(self, sender_id: str, code: str, last4: str) -> ProofResult:
        """Verify ``last4`` (the citizen's text) against the phone on dossier ``code`` for ``sender_id``.

        OK (and the proof granted), WRONG, LOCKED (the failure that reaches a limit, and every try while locked)
        or INVALID (not exactly 4 digits; not counted). Raises BackendUnavailable when the dossier source, the
        attempt store or the proof store cannot answer.
        """
        code = canonical_code(code)
        keys = self._keys(sender_id, code)
        if await self._locked(keys):
            return ProofResult.LOCKED
        given = extract_last4(last4)
        if given is None:
            return ProofResult.INVALID
        dossier = await self.backend.get(code)
        expected = phone_digits(dossier.applicant_phone)[-4:] if dossier else ""
        # Count the attempt before comparing: parallel guesses each get their own number, so no more than
        # the limits are ever compared, even across instances sharing Redis.
        counts = dict(zip(keys, await self.store.add_failures(list(keys), self.lockout_seconds)))
        if any(counts[key] > limit for key, limit in keys.items()):
            return ProofResult.LOCKED
        # An unknown code or a dossier without a phone fails like a wrong guess: the reply must not reveal it.
        if len(expected) == 4 and hmac.compare_digest(given.encode("ascii"), expected.encode("ascii")):
            pair, per_code, _ = keys  # the sender-wide count stays: it limits trying many codes
            await self.store.reset(pair)
            await self.store.reset(per_code)
            await self.proofs.grant(sender_id, code)
            return ProofResult.OK
        reached = any(counts[key] >= limit for key, limit in keys.items())
        return ProofResult.LOCKED if reached else ProofResult.WRONG
