"""A separate process that takes the same conversation lock N times and logs entering and leaving to Redis."""
from __future__ import annotations

import asyncio
import os
import sys

import redis.asyncio as aioredis

from cluster.lock_store import AtomicRedisLockStore


async def main(url: str, prefix: str, conversation: str, turns: int, hold: float, lifetime: float) -> None:
    store = AtomicRedisLockStore(url=url, key_prefix=prefix, lifetime=lifetime, max_wait=60)
    log = aioredis.Redis.from_url(url)
    me = str(os.getpid())
    for _ in range(turns):
        async with store.lock(conversation):
            await log.rpush(f"{prefix}:log", f"in:{me}")
            print("holding", flush=True)
            await asyncio.sleep(hold)
            await log.rpush(f"{prefix}:log", f"out:{me}")
    await store.aclose()
    await log.close()


if __name__ == "__main__":
    url, prefix, conversation, turns, hold, lifetime = sys.argv[1:7]
    asyncio.run(main(url, prefix, conversation, int(turns), float(hold), float(lifetime)))
