"""Small helpers shared by the dossier tests."""

from __future__ import annotations


async def close_redis(client: object) -> None:
    """Close a redis.asyncio client and its pool (close() alone leaves pooled sockets open in redis-py 4)."""
    closer = getattr(client, "aclose", None) or client.close  # type: ignore[attr-defined]
    await closer()
    await client.connection_pool.disconnect()  # type: ignore[attr-defined]
