"""Fixtures for the dossier tests: real SQLite files in tmp dirs, real HTTP fakes, a real Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterator, Optional

import pytest

from actions.dossiers.backend import SqliteDossierBackend
from actions.dossiers.subscriptions import SubscriptionStore
from tests.dossiers.helpers import close_redis
from tests.fakes.one_stop_api import FakeOneStopApi
from tests.fakes.rasa_server import FakeRasaServer


@pytest.fixture
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[SqliteDossierBackend]:
    """A seeded demo store in a fresh SQLite file."""
    backend = SqliteDossierBackend(tmp_path / "dossiers.sqlite")
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
async def fake_rasa() -> AsyncIterator[FakeRasaServer]:
    """The fake Rasa server, listening on a free port."""
    server = FakeRasaServer()
    await server.start()
    yield server
    await server.stop()


def _redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_base_url() -> Iterator[str]:
    """A reachable Redis: the local one on 6379, else a redis-server we start; else fail (never skip)."""
    if _redis_ping(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "Redis is needed for the shared-lockout tests: nothing answers on 127.0.0.1:6379 and "
            "redis-server is not installed (apt-get install redis-server)"
        )
    port = _free_port()
    proc: Optional[subprocess.Popen] = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while not _redis_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            err = (
                proc.stderr.read().decode(errors="replace") if proc.poll() is not None and proc.stderr else ""
            )
            proc.kill()
            pytest.fail(
                f"Redis is needed for the shared-lockout tests: could not start redis-server on port "
                f"{port}: {err[-500:]}"
            )
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


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
