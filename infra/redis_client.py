"""Lazily created redis.asyncio clients from a URL or REDIS_URL: nothing is imported or connected before first use."""
from __future__ import annotations

import asyncio
import os
from typing import Any, Awaitable, Callable, Mapping, Optional, Tuple, TypeVar

T = TypeVar("T")


def redis_url(url: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> str:
    """``url`` when given, else REDIS_URL of ``env`` (default: the environment); "" when Redis is not configured."""
    if url is None:
        url = (os.environ if env is None else env).get("REDIS_URL") or ""
    return url.strip()


def redis_errors() -> Tuple[type, ...]:
    """The exceptions that mean Redis did not answer: its own errors, socket errors and timeouts."""
    import redis  # lazy: only deployments with REDIS_URL need it

    return (redis.RedisError, OSError, asyncio.TimeoutError)


class AsyncRedis:
    """A redis.asyncio client for one URL, opened on first use and again when the running event loop changed.

    A client's pooled connections belong to the loop that opened them, so a process that runs several loops one after
    the other (tests, ``asyncio.run`` per command) gets a fresh client in each instead of "attached to a different
    loop" errors.
    """

    def __init__(self, url: Optional[str] = None, *, timeout: float = 2.0, decode_responses: bool = False) -> None:
        self.url = redis_url(url)
        self.timeout = timeout
        self.decode_responses = decode_responses
        self._client: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    @property
    def opened(self) -> bool:
        """True while a client exists (after first use, until ``close``)."""
        return self._client is not None

    def client(self) -> Any:
        """The client of the running event loop, created now when there is none for it."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            if not self.url:
                raise ValueError("Redis is not configured: no URL given and REDIS_URL is empty")
            import redis.asyncio as aioredis  # lazy, see redis_errors

            self._client = aioredis.from_url(self.url, socket_timeout=self.timeout,
                                             socket_connect_timeout=self.timeout,
                                             decode_responses=self.decode_responses)
            self._loop = loop
        return self._client

    async def call(self, op: Callable[[Any], Awaitable[T]], fail: Callable[[str], Exception]) -> T:
        """``await op(client)``; when Redis does not answer, raise ``fail("ErrorType: message")`` from the error
        (callers turn it into their own "unavailable" error and fail closed)."""
        errors = redis_errors()
        try:
            return await op(self.client())
        except errors as exc:
            raise fail(f"{type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        """Close the client and its connection pool; a later call opens a new one."""
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            # redis-py 5 renamed close() to aclose(); support both so a lock-file bump does not break this.
            closer = getattr(client, "aclose", None) or client.close
            await closer()
            await client.connection_pool.disconnect()
