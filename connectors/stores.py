"""Short-lived shared markers: webhook de-duplication and the "paused by an officer" flag.

With REDIS_URL set the markers live in Redis (shared by every process); otherwise in an in-process TTL map,
which is only correct for a single process.
"""
from __future__ import annotations

import os
import time
from typing import Any, Dict, Optional


def redis_from_env(url: Optional[str] = None) -> Any:
    """A redis.asyncio client for ``url`` (or REDIS_URL), or None when no Redis is configured."""
    url = url if url is not None else os.environ.get("REDIS_URL", "")
    if not url:
        return None
    import redis.asyncio as aioredis  # lazy: only needed when Redis is configured

    return aioredis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)


class TTLMarkers:
    """Set-once markers with expiry: Redis SET NX EX when available, else an in-memory map."""

    def __init__(self, namespace: str, ttl_seconds: float, redis_url: Optional[str] = None) -> None:
        self.namespace = namespace
        self.ttl = ttl_seconds
        self._redis_url = redis_url
        self._redis: Any = None
        self._redis_checked = False
        self._local: Dict[str, float] = {}

    def _client(self) -> Any:
        if not self._redis_checked:
            self._redis = redis_from_env(self._redis_url)
            self._redis_checked = True
        return self._redis

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

    async def aclose(self) -> None:
        """Close the Redis connection pool, if one was opened."""
        if self._redis is not None:
            await self._redis.close(close_connection_pool=True)
        self._redis, self._redis_checked = None, False

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
