"""Connector test fixtures: a real Sanic server per channel, a bot stub, the fakes, a private Redis, a private
application database."""
from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Tuple

import aiohttp
import pytest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from connectors import http
from infra import db
from tests.conftest import free_port
from tests.fakes.fake_messenger import FakeMessenger, signed_messenger_request
from tests.fakes.platform import FakePlatform


class BotStub:
    """Stands in for Rasa's on_new_message: records messages and answers through the real OutputChannel."""

    def __init__(self) -> None:
        self.messages: List[UserMessage] = []
        self.finished: List[str] = []
        self.delays: Dict[str, float] = {}  # text -> seconds the turn takes
        self.reply: Optional[Callable[[UserMessage], Any]] = None  # returns text, or awaits its own sends

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await asyncio.sleep(self.delays.get(message.text or "", 0))
        if self.reply is not None:
            result = self.reply(message)
            if asyncio.iscoroutine(result):
                await result
            elif result:
                await message.output_channel.send_text_message(message.sender_id, result)
        self.finished.append(message.text or "")

    @property
    def texts(self) -> List[str]:
        """Texts received, in order."""
        return [m.text or "" for m in self.messages]


@contextlib.asynccontextmanager
async def serve_channel(channel: InputChannel, bot: BotStub) -> AsyncIterator[str]:
    """Run ``channel``'s blueprint in a real Sanic server; yields the base URL of its webhooks."""
    # test_mode lets several apps start in one process (Sanic's touch-up otherwise rewrites methods twice).
    Sanic.test_mode = True
    app = Sanic(f"test_{channel.name()}_{uuid.uuid4().hex[:8]}")
    prefix = f"/webhooks/{channel.name()}"
    app.blueprint(channel.blueprint(bot), url_prefix=prefix)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False, debug=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}{prefix}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@contextlib.asynccontextmanager
async def echo_channel(channel: InputChannel) -> AsyncIterator[Tuple[Any, BotStub, str]]:
    """``channel`` served with a bot stub answering "Đã nhận: <text>": (channel, bot, webhook URL); the queued
    turns are drained before the server stops."""
    bot = BotStub()
    bot.reply = lambda m: f"Đã nhận: {m.text}"
    async with serve_channel(channel, bot) as base:
        yield channel, bot, f"{base}/webhook"
        await channel.queue.drain(10)


@contextlib.asynccontextmanager
async def serving(fake: FakePlatform) -> AsyncIterator[Any]:
    """``fake`` running on a free port for the duration of the block."""
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def text_delivery(user: str, text: str, app_secret: str) -> Tuple[bytes, Dict[str, str]]:
    """A signed Messenger delivery of one text message with a fresh mid: (raw, headers)."""
    now = int(time.time() * 1000)
    return signed_messenger_request({"object": "page", "entry": [{"id": "p", "time": now, "messaging": [
        {"sender": {"id": user}, "recipient": {"id": "p"}, "timestamp": now,
         "message": {"mid": uuid.uuid4().hex, "text": text}}]}]}, app_secret)


def with_signature(headers: Dict[str, str], header: str, value: Optional[str]) -> Dict[str, str]:
    """``headers`` with the signature ``header`` set to ``value`` (left out when None)."""
    changed = {k: v for k, v in headers.items() if k != header}
    if value is not None:
        changed[header] = value
    return changed


async def post(url: str, raw: bytes, headers: Dict[str, str]) -> aiohttp.ClientResponse:
    """POST raw bytes and return the (read) response."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.post(url, data=raw, headers=headers) as resp:
            await resp.read()
            return resp


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def fast_policy() -> http.RetryPolicy:
    """Retries with tiny backoff so retry tests stay fast."""
    return http.RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, timeout=2.0)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No inherited Redis or platform settings; tests choose explicitly."""
    for name in ("REDIS_URL", "ZALO_API_BASE", "ZALO_OAUTH_BASE", "MESSENGER_GRAPH_BASE", "ZALO_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private SQLite application database (hand-offs), so that no test touches var/app.sqlite."""
    path = tmp_path / "app.sqlite"
    monkeypatch.setenv("APP_DB_PATH", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db.dispose_all()
    yield path
    db.dispose_all()


@pytest.fixture
async def messenger() -> AsyncIterator[FakeMessenger]:
    """A running fake Graph Send API answering at once (page token ``messenger.page_token``)."""
    fake = FakeMessenger()
    fake.delay = 0.0
    async with serving(fake):
        yield fake


@pytest.fixture(autouse=True)
async def _close_http_session() -> AsyncIterator[None]:
    """Close the shared client session after each test (each test runs in its own event loop)."""
    yield
    await http.close_session()


@pytest.fixture(scope="session")
def redis_url(redis_base_url: str) -> str:
    """The test run's Redis (tests/conftest.py)."""
    return redis_base_url


@pytest.fixture
async def redis_clean(redis_url: str) -> AsyncIterator[str]:
    """The Redis URL with the connectors' keys removed before and after the test."""
    import redis.asyncio as aioredis

    async def wipe() -> None:
        client = aioredis.from_url(redis_url, decode_responses=True)
        keys = [k async for k in client.scan_iter("chatbot:*")]
        if keys:
            await client.delete(*keys)
        await client.close(close_connection_pool=True)

    await wipe()
    yield redis_url
    await wipe()
