"""Short-lived shared state: webhook de-duplication, the "paused by an officer" flag, held messages.

With REDIS_URL set they live in Redis (shared by every process); otherwise in an in-process TTL map,
which is only correct for a single process.
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from infra.masking import user_ref

logger = logging.getLogger(__name__)


def redis_from_env(url: Optional[str] = None) -> Any:
    """A redis.asyncio client for ``url`` (or REDIS_URL), or None when no Redis is configured."""
    url = url if url is not None else os.environ.get("REDIS_URL", "")
    if not url:
        return None
    import redis.asyncio as aioredis  # lazy: only needed when Redis is configured

    return aioredis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)


class RedisBacked:
    """A lazily opened redis.asyncio client (None without Redis); it belongs to the loop that first uses it."""

    def __init__(self, redis_url: Optional[str] = None) -> None:
        self._redis_url = redis_url
        self._redis: Any = None
        self._redis_checked = False

    def _client(self) -> Any:
        if not self._redis_checked:
            self._redis = redis_from_env(self._redis_url)
            self._redis_checked = True
        return self._redis

    async def aclose(self) -> None:
        """Close the Redis connection pool, if one was opened."""
        if self._redis is not None:
            await self._redis.close(close_connection_pool=True)
        self._redis, self._redis_checked = None, False


class TTLMarkers(RedisBacked):
    """Set-once markers with expiry: Redis SET NX EX when available, else an in-memory map."""

    def __init__(self, namespace: str, ttl_seconds: float, redis_url: Optional[str] = None) -> None:
        super().__init__(redis_url)
        self.namespace = namespace
        self.ttl = ttl_seconds
        self._local: Dict[str, float] = {}

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _purge(self, now: float) -> None:
        # Purge only when the map grows, so the common path stays O(1).
        if len(self._local) > 1024:
            for k in [k for k, exp in self._local.items() if exp <= now]:
                del self._local[k]

    async def add_if_absent(self, key: str, ttl: Optional[float] = None) -> bool:
        """Set the marker; True if it was not set before (i.e. first sight of ``key``)."""
        ttl = self.ttl if ttl is None else ttl
        client = self._client()
        if client is not None:
            return bool(await client.set(self._key(key), "1", nx=True, ex=max(1, int(ttl))))
        now = time.monotonic()
        self._purge(now)
        exp = self._local.get(key)
        if exp is not None and exp > now:
            return False
        self._local[key] = now + ttl
        return True

    async def set(self, key: str, ttl: Optional[float] = None) -> None:
        """Set (or refresh) the marker for ``ttl`` seconds."""
        ttl = self.ttl if ttl is None else ttl
        client = self._client()
        if client is not None:
            await client.set(self._key(key), "1", ex=max(1, int(ttl)))
            return
        self._local[key] = time.monotonic() + ttl

    async def is_set(self, key: str) -> bool:
        """True while the marker exists."""
        client = self._client()
        if client is not None:
            return bool(await client.exists(self._key(key)))
        exp = self._local.get(key)
        return exp is not None and exp > time.monotonic()

    async def clear(self, key: str) -> None:
        """Remove the marker."""
        client = self._client()
        if client is not None:
            await client.delete(self._key(key))
        self._local.pop(key, None)


class DedupeStore(TTLMarkers):
    """Remembers platform message ids so redelivered webhooks are processed once."""

    def __init__(self, platform: str, ttl_seconds: float = 48 * 3600,
                 redis_url: Optional[str] = None) -> None:
        # 48 h covers Zalo's hours-long redelivery and Meta's retries.
        super().__init__(f"chatbot:dedupe:{platform}", ttl_seconds, redis_url)

    async def first_time(self, message_id: str) -> bool:
        """True the first time ``message_id`` is seen; False for redeliveries."""
        return await self.add_if_absent(message_id)


class PauseStore(TTLMarkers):
    """Users whose conversation a human officer has taken over: the bot stays quiet while set."""

    def __init__(self, platform: str, ttl_seconds: float = 4 * 3600, redis_url: Optional[str] = None) -> None:
        super().__init__(f"chatbot:paused:{platform}", ttl_seconds, redis_url)


class HeldMessages(RedisBacked):
    """Messages a platform refused because the user cannot be reached now (outside the messaging window, not
    a follower, ...): kept per user, oldest first, and sent again once at the user's next interaction.

    Bounded per user and in time: a notice older than a week is more likely stale than useful.
    """

    def __init__(self, platform: str, ttl_seconds: float = 7 * 24 * 3600, max_per_user: int = 20,
                 redis_url: Optional[str] = None) -> None:
        super().__init__(redis_url)
        self.namespace = f"chatbot:held:{platform}"
        self.ttl = ttl_seconds
        self.max_per_user = max_per_user
        self._local: Dict[str, Tuple[float, List[Dict[str, Any]]]] = {}

    async def add(self, user_id: str, message: Dict[str, Any]) -> None:
        """Keep ``message`` for ``user_id`` (the oldest ones go beyond ``max_per_user``)."""
        client = self._client()
        if client is not None:
            key = f"{self.namespace}:{user_id}"
            async with client.pipeline(transaction=True) as pipe:
                pipe.rpush(key, json.dumps(message, ensure_ascii=False))
                pipe.ltrim(key, -self.max_per_user, -1)
                pipe.expire(key, max(1, int(self.ttl)))
                await pipe.execute()
            return
        now = time.monotonic()
        if len(self._local) > 1024:  # users who never came back
            for k in [k for k, (exp, _) in self._local.items() if exp <= now]:
                del self._local[k]
        expires, kept = self._local.get(user_id, (0.0, []))
        kept = (kept if expires > now else []) + [message]
        self._local[user_id] = (now + self.ttl, kept[-self.max_per_user:])

    async def take(self, user_id: str) -> List[Dict[str, Any]]:
        """Remove and return the messages kept for ``user_id``, oldest first (atomic across processes)."""
        client = self._client()
        if client is not None:
            key = f"{self.namespace}:{user_id}"
            async with client.pipeline(transaction=True) as pipe:
                pipe.lrange(key, 0, -1)
                pipe.delete(key)
                raw, _ = await pipe.execute()
            return [json.loads(item) for item in raw]
        expires, kept = self._local.pop(user_id, (0.0, []))
        return kept if expires > time.monotonic() else []

    async def resend(self, user_id: str, send: Callable[[Dict[str, Any]], Awaitable[bool]]) -> int:
        """Send the kept messages once each with ``send`` (which must not keep them again); returns how many
        were delivered."""
        messages = await self.take(user_id)
        delivered = 0
        for message in messages:
            delivered += bool(await send(message))
        if messages:
            logger.info("%s: %d of %d held message(s) delivered to user %s", self.namespace, delivered,
                        len(messages), user_ref(user_id))
        return delivered
