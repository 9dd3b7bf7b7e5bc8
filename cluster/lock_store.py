"""A conversation lock store that is safe across Rasa servers sharing one Redis.

Rasa 3.6's RedisLockStore reads a lock, changes it in Python and writes it back as separate steps, so two servers
can both take the same conversation (RasaHQ/rasa #9213, #4918, #6290); it also polls once a second and lets a lock
expire under a slow action. Here every step is one atomic Lua script on Redis:

- a ticket is drawn with INCR and queued in a sorted set ordered by ticket number (first come, first served);
- the holder is the lowest live ticket; each ticket has its own expiry (Redis clock, not the servers' clocks);
- a heartbeat extends the tickets of a live process, so the lock outlives the slowest action, but only up to
  ``max_hold`` seconds: a turn that hangs, or a process that died, releases the conversation by itself;
- a waiter gives up with LockError after ``max_wait`` seconds instead of waiting forever.

Registered in endpoints.yml by module path::

    lock_store:
      type: cluster.lock_store.AtomicRedisLockStore
      url: ${REDIS_URL}            # redis://host:port/db
      lifetime: 15                 # seconds a ticket lives without heartbeat
      max_hold: 120
      max_wait: 60
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, AsyncIterator, Dict, Optional, Text, Tuple

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LockError, LockStore

from infra.masking import user_ref

log = logging.getLogger(__name__)

# KEYS: queue (zset ticket->ticket), expiry (zset ticket->expiry ms), counter. ARGV: lifetime ms, idle ttl ms.
_ISSUE = """
local t = redis.call('INCR', KEYS[3])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[1], t, t)
redis.call('ZADD', KEYS[2], ms + tonumber(ARGV[1]), t)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return t
"""
# 1: this ticket holds the lock; 0: wait; -1: the ticket is gone (expired).
_TRY = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ms)
for _, t in ipairs(expired) do redis.call('ZREM', KEYS[1], t) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms) end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then return 1 end
return 0
"""
_REFRESH = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[2], 'XX', ms + tonumber(ARGV[2]), ARGV[1])
for i = 1, 2 do redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
return 1
"""
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


# A ticket drawn when the platform's webhook arrived (reserve_turn), used by the next lock()
# of that conversation in the same task: turns then run in webhook arrival order even when one citizen's messages
# reach different servers.
_reserved: "contextvars.ContextVar[Optional[Tuple[str, int]]]" = contextvars.ContextVar("reserved_ticket",
                                                                                          default=None)


def is_transient(exc: BaseException) -> bool:
    """True for errors a later attempt can get past: Redis or another service unreachable, a timeout."""
    import redis.exceptions

    return isinstance(exc, (OSError, asyncio.TimeoutError, redis.exceptions.ConnectionError,
                            redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError))


async def reserve_turn(store: Any, conversation_id: Text) -> Optional[int]:
    """A ticket for a turn that a connector is accepting (None when the store does not reserve).

    Redis being unreachable is raised, so that the webhook is not acknowledged and the platform delivers the
    message again: a turn accepted without its ticket could overtake the citizen's earlier messages."""
    if not isinstance(store, AtomicRedisLockStore) or not conversation_id:
        return None
    try:
        return await store.reserve(conversation_id, lifetime=store.reserve_lifetime)
    except Exception as exc:
        if is_transient(exc):
            raise
        log.exception("could not reserve a lock ticket for %s", user_ref(conversation_id))  # the turn draws one later
        return None


async def release_turn(store: Any, conversation_id: Text, ticket: Optional[int]) -> None:
    """Give back a reserved ticket no turn will use (a redelivery, a failed turn); never raises."""
    if ticket is None or not isinstance(store, AtomicRedisLockStore):
        return
    with contextlib.suppress(Exception):  # if Redis is gone the ticket expires by itself
        await store._eval(_RELEASE, store._keys(conversation_id)[:2], ticket)


@contextlib.asynccontextmanager
async def reserved_turn(store: Any, conversation_id: Text, ticket: Optional[int]) -> AsyncIterator[None]:
    """Run a turn with its reserved ticket; a ticket the turn did not use (no bot turn, an error) is released.

    A turn that failed on a transient error and is run again inside this block keeps its ticket (see
    AtomicRedisLockStore.lock), so the retry does not lose the conversation's place to later messages."""
    if ticket is None or not isinstance(store, AtomicRedisLockStore):
        yield
        return
    token = _reserved.set((conversation_id, ticket))
    try:
        yield
    finally:
        left = _reserved.get()
        _reserved.reset(token)
        if left is not None:
            await release_turn(store, conversation_id, left[1])


@dataclass
class LockStats:
    """Counters an operator scrapes (infra.metrics renders them)."""

    acquired: int = 0
    waited: int = 0              # acquisitions that had to wait for another turn of the same conversation
    wait_seconds: float = 0.0
    timeouts: int = 0            # gave up after max_wait
    lost: int = 0                # the ticket expired while waiting (process stalled longer than the lifetime)
    redis_errors: int = 0


class AtomicRedisLockStore(LockStore):
    """Ticket locks per conversation, each step one atomic Redis script."""

    def __init__(self, endpoint_config: Any = None, *, url: Optional[str] = None, key_prefix: str = "lock",
                 lifetime: float = 15.0, max_hold: float = 120.0, max_wait: float = 60.0,
                 poll: float = 0.02) -> None:
        kwargs: Dict[str, Any] = dict(getattr(endpoint_config, "kwargs", {}) or {})
        self.url = url or getattr(endpoint_config, "url", None) or "redis://127.0.0.1:6379/0"
        if not str(self.url).startswith(("redis://", "rediss://", "unix://")):
            self.url = f"redis://{self.url}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
        self.key_prefix = str(kwargs.get("key_prefix", key_prefix))
        self.lifetime = float(kwargs.get("lifetime", lifetime))
        self.max_hold = float(kwargs.get("max_hold", max_hold))
        self.max_wait = float(kwargs.get("max_wait", max_wait))
        self.poll = float(kwargs.get("poll", poll))
        # A reserved ticket waits in the connector's per-user queue behind that user's earlier turns.
        self.reserve_lifetime = float(kwargs.get("reserve_lifetime", 30.0))
        self.stats = LockStats()
        # redis.asyncio clients belong to the loop that made them; Rasa may run turns on more than one loop.
        self._clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()
        super().__init__()

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5,
                                             health_check_interval=10)
            self._clients[loop] = client
        return client

    def _keys(self, conversation_id: Text) -> list:
        base = f"{self.key_prefix}:{{{conversation_id}}}"  # one hash slot per conversation on a Redis cluster
        return [f"{base}:queue", f"{base}:expiry", f"{base}:counter"]

    def _idle_ms(self) -> int:
        return int(max(self.max_hold, self.max_wait, self.lifetime) * 2000) + 60_000

    async def _eval(self, script: str, keys: list, *args: Any) -> int:
        try:
            return int(await self._client().eval(script, len(keys), *keys, *args))
        except Exception:
            self.stats.redis_errors += 1
            raise

    async def _heartbeat(self, conversation_id: Text, ticket: int, started: float) -> None:
        keys = self._keys(conversation_id)
        interval = max(0.5, self.lifetime / 3)
        while time.monotonic() - started < self.max_hold:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):  # a missed beat is survivable: the ticket lives `lifetime`
                await self._eval(_REFRESH, keys[:2], ticket, int(self.lifetime * 1000), self._idle_ms())
        log.warning("conversation %s held its lock longer than %.0f s; letting it expire", user_ref(conversation_id),
                    self.max_hold)

    async def reserve(self, conversation_id: Text, lifetime: Optional[float] = None) -> int:
        """Draw a ticket now (webhook arrival) for a turn that will run later; see ``reserved_turn``."""
        keys = self._keys(conversation_id)
        life = self.lifetime if lifetime is None else lifetime
        return await self._eval(_ISSUE, keys, int(life * 1000), self._idle_ms())

    @contextlib.asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = 0,
                   wait_time_in_seconds: float = 0) -> AsyncIterator[TicketLock]:
        """Hold the conversation for one turn; LockError when it could not be had within ``max_wait``."""
        keys = self._keys(conversation_id)
        reserved = _reserved.get()
        if reserved is not None and reserved[0] == conversation_id:
            ticket = reserved[1]
            # Raises while Redis is away: the reservation stays for the connector's retry of the turn.
            await self._eval(_REFRESH, keys[:2], ticket, int(self.lifetime * 1000), self._idle_ms())
        else:
            ticket = await self._eval(_ISSUE, keys, int(self.lifetime * 1000), self._idle_ms())
            reserved = None
        started = time.monotonic()
        beat = asyncio.ensure_future(self._heartbeat(conversation_id, ticket, started))
        keep = False
        try:
            waited = False
            delay = self.poll
            while True:
                state = await self._eval(_TRY, keys[:2], ticket)
                if state == 1:
                    break
                if state == -1:
                    self.stats.lost += 1
                    if reserved is None:
                        raise LockError(
                            f"lock ticket for conversation {user_ref(conversation_id)} expired while waiting")
                    # A reserved ticket waited in this process's queue longer than its lifetime: draw a new one
                    # (arrival order can no longer be promised, but the turn is not lost).
                    log.warning("reserved ticket of conversation %s expired; drawing a new one",
                                user_ref(conversation_id))
                    beat.cancel()
                    _reserved.set(None)
                    reserved = None
                    ticket = await self._eval(_ISSUE, keys, int(self.lifetime * 1000), self._idle_ms())
                    beat = asyncio.ensure_future(self._heartbeat(conversation_id, ticket, started))
                    continue
                if time.monotonic() - started > self.max_wait:
                    self.stats.timeouts += 1
                    raise LockError(
                        f"could not lock conversation {user_ref(conversation_id)} within {self.max_wait:.0f} s")
                waited = True
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 0.2)
            self.stats.acquired += 1
            if waited:
                self.stats.waited += 1
                self.stats.wait_seconds += time.monotonic() - started
            if reserved is not None:
                _reserved.set(None)  # in use: a second lock() in the same task draws its own ticket
            yield TicketLock(conversation_id, deque([Ticket(ticket, time.time() + self.lifetime)]))
        except Exception as exc:
            # A reserved turn that failed because Redis (tracker or lock) was away is run again by its
            # connector: it keeps its ticket, hence its place before the citizen's later messages.
            keep = reserved is not None and is_transient(exc)
            raise
        finally:
            beat.cancel()
            if keep:
                _reserved.set(reserved)
            else:
                if reserved is not None:
                    _reserved.set(None)
                with contextlib.suppress(Exception):  # if Redis is gone the ticket expires by itself
                    await asyncio.shield(self._eval(_RELEASE, keys[:2], ticket))

    # Rasa's synchronous ticket API is what made its store unsafe; nothing in Rasa 3.6 calls it besides lock().
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """Not supported: use ``lock()``."""
        raise NotImplementedError("AtomicRedisLockStore is used only through lock()")

    def delete_lock(self, conversation_id: Text) -> None:
        """Not supported: use ``lock()``."""
        raise NotImplementedError("AtomicRedisLockStore is used only through lock()")

    def save_lock(self, lock: TicketLock) -> None:
        """Not supported: use ``lock()``."""
        raise NotImplementedError("AtomicRedisLockStore is used only through lock()")

    async def aclose(self) -> None:
        """Close the Redis connections of the current loop."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()
