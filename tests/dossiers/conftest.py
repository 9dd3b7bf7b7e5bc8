"""Fixtures for the dossier tests: real SQLite files in tmp dirs, real HTTP fakes, a real Redis."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import AsyncIterator

import pytest

from onestop.dossiers.backend import DemoDossierBackend
from onestop.dossiers.subscriptions import SubscriptionStore
from tests.dossiers.helpers import close_redis
from tests.fakes.one_stop_api import FakeOneStopApi


@pytest.fixture
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[DemoDossierBackend]:
    """A seeded demo store in a fresh SQLite file."""
    backend = DemoDossierBackend(tmp_path / "dossiers.sqlite")
    yield backend
    await backend.close()


@pytest.fixture
async def subscription_store(tmp_path: Path) -> AsyncIterator[SubscriptionStore]:
    """An empty subscription store in a fresh SQLite file."""
    store = SubscriptionStore(tmp_path / "subscriptions.sqlite")
    yield store
    await store.close()


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeOneStopApi]:
    """The fake one-stop API, empty, listening on a free port (API key ``test-key``)."""
    api = FakeOneStopApi(api_key="test-key")
    await api.start()
    yield api
    await api.stop()



@pytest.fixture
async def redis_prefix(redis_base_url: str) -> AsyncIterator[str]:
    """A key prefix unique to this test; its keys are deleted afterwards (the local Redis may be shared)."""
    import redis.asyncio as aioredis

    prefix = f"test:dossier:proof:{uuid.uuid4().hex}:"
    yield prefix
    client = aioredis.from_url(redis_base_url)
    try:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await close_redis(client)
