"""Ownership proofs kept on the server: who proved which dossier, for a short time.

The action that checks the 4 digits (validate_dossier_proof_form) grants a proof for (sender id, dossier code);
the action that reveals details (action_show_dossier_details) reveals them only while that proof is in this store.
A tracker slot never grants anything: a conversation's slots can be written by whoever reaches Rasa's tracker API
or the action server, the store cannot. Proofs last DOSSIER_PROOF_TTL_SECONDS (15 minutes by default): the details
are shown once, right after the proof; asking again later asks the digits again. In Redis (REDIS_URL) so that
every action-server instance sees them, else in this process (the single action server of ``make run``).
"""
from __future__ import annotations

import abc
import hashlib
import os
import time
from typing import Any, Callable, Dict, Mapping, Optional

from infra.redis_client import AsyncRedis, redis_url
from onestop.dossiers.backend import BackendUnavailable
from onestop.dossiers.model import canonical_code

DEFAULT_TTL_SECONDS = 15 * 60


def proof_key(sender_id: str, code: str) -> str:
    """Hashed (sender, code): the store needs neither in clear."""
    return hashlib.sha256(f"{sender_id}\x00{canonical_code(code)}".encode("utf-8")).hexdigest()[:40]


class ProofStore(abc.ABC):
    """Granted proofs with an expiry."""

    def __init__(self, ttl: int = DEFAULT_TTL_SECONDS) -> None:
        self.ttl = ttl

    @abc.abstractmethod
    async def grant(self, sender_id: str, code: str) -> None:
        """Record that ``sender_id`` proved ``code`` (for ``ttl`` seconds)."""

    @abc.abstractmethod
    async def has(self, sender_id: str, code: str) -> bool:
        """True while the proof of ``sender_id`` for ``code`` is valid."""

    @abc.abstractmethod
    async def revoke(self, sender_id: str, code: str) -> None:
        """Forget a proof."""


class MemoryProofStore(ProofStore):
    """Proofs in this process only (one action server)."""

    def __init__(self, ttl: int = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        super().__init__(ttl)
        self._clock = clock
        self._max_keys = max_keys
        self._until: Dict[str, float] = {}

    async def grant(self, sender_id: str, code: str) -> None:
        """Record the proof."""
        now = self._clock()
        if len(self._until) >= self._max_keys:  # bounded memory: expired ones first, then the oldest
            for key in [k for k, t in self._until.items() if t <= now] or sorted(self._until, key=self._until.get)[:1]:
                del self._until[key]
        self._until[proof_key(sender_id, code)] = now + self.ttl

    async def has(self, sender_id: str, code: str) -> bool:
        """True while valid."""
        key = proof_key(sender_id, code)
        until = self._until.get(key)
        if until is None:
            return False
        if self._clock() >= until:
            del self._until[key]
            return False
        return True

    async def revoke(self, sender_id: str, code: str) -> None:
        """Forget the proof."""
        self._until.pop(proof_key(sender_id, code), None)


class RedisProofStore(ProofStore):
    """Proofs in Redis (SET with EX), shared by every action-server instance; fails closed."""

    def __init__(self, url: str, ttl: int = DEFAULT_TTL_SECONDS, prefix: str = "dossier:proved:") -> None:
        super().__init__(ttl)
        self.url = url
        self.prefix = prefix
        self._redis = AsyncRedis(url)

    async def _call(self, op: Callable[[Any], Any]) -> Any:
        return await self._redis.call(op, lambda detail: BackendUnavailable("proof_store", detail))

    async def grant(self, sender_id: str, code: str) -> None:
        """SET key 1 EX ttl."""
        key = self.prefix + proof_key(sender_id, code)
        await self._call(lambda r: r.set(key, b"1", ex=int(self.ttl)))

    async def has(self, sender_id: str, code: str) -> bool:
        """EXISTS key."""
        key = self.prefix + proof_key(sender_id, code)
        return bool(await self._call(lambda r: r.exists(key)))

    async def revoke(self, sender_id: str, code: str) -> None:
        """DEL key."""
        key = self.prefix + proof_key(sender_id, code)
        await self._call(lambda r: r.delete(key))

    async def close(self) -> None:
        """Close the Redis connection pool."""
        await self._redis.close()


def make_proof_store(env: Optional[Mapping[str, str]] = None) -> ProofStore:
    """Redis when REDIS_URL is set, else in memory; lifetime DOSSIER_PROOF_TTL_SECONDS."""
    env = os.environ if env is None else env
    ttl = int(env.get("DOSSIER_PROOF_TTL_SECONDS") or DEFAULT_TTL_SECONDS)
    url = redis_url(env=env)
    return RedisProofStore(url, ttl) if url else MemoryProofStore(ttl)
