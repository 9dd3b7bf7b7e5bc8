"""Sign-in guessing limits, keyed on (name, client address), shared in Redis when REDIS_URL is set.

The client address is the peer's, unless the peer is one of CONSOLE_TRUSTED_PROXIES (addresses or networks, comma
separated): then it is the last address of X-Forwarded-For that is not a trusted proxy. Behind nginx every request
comes from the proxy; without this, one person's guesses would lock everybody out (or nobody).
"""
from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def trusted_proxies(env: Optional[Mapping[str, str]] = None) -> List[Network]:
    """CONSOLE_TRUSTED_PROXIES as networks (a bare address is a /32 or /128)."""
    env = os.environ if env is None else env
    out: List[Network] = []
    for part in (env.get("CONSOLE_TRUSTED_PROXIES") or "").split(","):
        if part.strip():
            out.append(ipaddress.ip_network(part.strip(), strict=False))
    return out


def _in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: Optional[str], forwarded_for: Optional[str], proxies: Sequence[Network]) -> str:
    """The address to key limits on: the peer, or behind trusted proxies the first untrusted forwarded hop."""
    peer = peer or ""
    if not forwarded_for or not _in(peer, proxies):
        return peer  # anyone else's X-Forwarded-For is a claim, not a fact
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _in(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


class Lockout:
    """At most ``max_failures`` wrong passwords per key within ``seconds`` (a window from the first one)."""

    def __init__(self, max_failures: int, seconds: int, redis_url: Optional[str] = None) -> None:
        self.max_failures = max_failures
        self.seconds = seconds
        self.redis_url = redis_url
        self._memory: Dict[str, Tuple[int, float]] = {}
        self._client: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    @staticmethod
    def key(name: str, address: str) -> str:
        """Hashed: Redis needs neither the name nor the address in clear."""
        return "console:login:" + hashlib.sha256(f"{name.lower()}\x00{address}".encode()).hexdigest()[:40]

    def _redis(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio as aioredis

            self._client = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
            self._loop = loop
        return self._client

    async def wait_seconds(self, key: str) -> int:
        """0 when a try is allowed, else how long until it is."""
        if self.redis_url:
            client = self._redis()
            count = await client.get(key)
            if count is None or int(count) < self.max_failures:
                return 0
            return max(1, int(await client.ttl(key)))
        count, until = self._memory.get(key, (0, 0.0))
        now = time.monotonic()
        if now >= until:
            self._memory.pop(key, None)
            return 0
        return int(until - now) + 1 if count >= self.max_failures else 0

    async def failed(self, key: str) -> None:
        """Count one wrong password."""
        if self.redis_url:
            client = self._redis()
            if await client.incr(key) == 1 or await client.ttl(key) < 0:
                await client.expire(key, self.seconds)  # the window starts at the first wrong password
            return
        count, until = self._memory.get(key, (0, 0.0))
        now = time.monotonic()
        if now >= until:
            count, until = 0, now + self.seconds
        self._memory[key] = (count + 1, until)

    async def reset(self, key: str) -> None:
        """Forget the failures after a right password."""
        if self.redis_url:
            await self._redis().delete(key)
        self._memory.pop(key, None)
