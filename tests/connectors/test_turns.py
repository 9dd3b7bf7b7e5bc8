"""The turn thread: webhooks are acknowledged while turns block, shutdown finishes turns, Rasa's shared
state is serialised across threads."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, List

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore

from connectors import http
from connectors.messenger import MessengerInput
from connectors.turns import TURNS, make_rasa_thread_safe
from tests.connectors.conftest import BotStub, fast_policy, post, serve_channel, text_delivery, wait_for
from tests.fakes.fake_messenger import FakeMessenger

APP_SECRET = "turns-app-secret"


def make_channel(messenger: FakeMessenger) -> MessengerInput:
    """A Messenger channel wired to the fake Send API."""
    return MessengerInput(messenger.page_token, APP_SECRET, "v", graph_base=messenger.base_url,
                          policy=fast_policy())


def delivery(user: str, text: str) -> Any:
    """A signed one-message delivery: (raw, headers)."""
    return text_delivery(user, text, APP_SECRET)


def busy(seconds: float) -> None:
    """Hold the CPU (and the GIL between switches) like Rasa's synchronous inference does."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_acks_do_not_wait_for_turns_that_block(messenger: FakeMessenger) -> None:
    channel, bot = make_channel(messenger), BotStub()
    threads: List[str] = []

    def reply(message: UserMessage) -> str:
        threads.append(threading.current_thread().name)
        busy(0.3)
        return "ok"

    bot.reply = reply
    async with serve_channel(channel, bot) as base:
        url = f"{base}/webhook"

        async def timed(user: str) -> float:
            raw, headers = delivery(user, "câu hỏi")
            start = time.monotonic()
            assert (await post(url, raw, headers)).status == 200
            return time.monotonic() - start

        acks = []
        for i in range(6):  # while the first turns block, later deliveries must still be acknowledged at once
            acks.append(await timed(f"user{i}"))
            await asyncio.sleep(0.05)
        await wait_for(lambda: len(messenger.delivered) == 6, 10)
    assert max(acks) < 0.25, acks
    assert set(threads) == {TURNS.name}


async def test_shutdown_finishes_turns_in_flight_and_refuses_new_deliveries(messenger: FakeMessenger) -> None:
    channel, bot = make_channel(messenger), BotStub()
    bot.delays["chậm"] = 0.6
    bot.reply = lambda m: f"Đã nhận: {m.text}"
    server = serve_channel(channel, bot)
    base = await server.__aenter__()
    raw, headers = delivery("u-slow", "chậm")
    assert (await post(f"{base}/webhook", raw, headers)).status == 200
    await asyncio.sleep(0.1)
    stopping = asyncio.create_task(server.__aexit__(None, None, None))
    await asyncio.sleep(0.1)  # the server still listens while queued turns finish
    raw, headers = delivery("u-late", "muộn")
    assert (await post(f"{base}/webhook", raw, headers)).status == 503
    await stopping
    assert bot.finished == ["chậm"]
    assert [r["body"]["message"]["text"] for r in messenger.delivered] == ["Đã nhận: chậm"]
    assert TURNS.loop is None


async def test_proactive_sends_from_the_server_loop_use_the_turn_loop(messenger: FakeMessenger) -> None:
    channel = make_channel(messenger)
    async with serve_channel(channel, BotStub()):
        # As Rasa's trigger_intent does: the output channel called on Sanic's loop.
        await channel.output.send_text_message("u-proactive", "Hồ sơ của bạn đã có kết quả.")
        assert TURNS.loop in http._sessions and asyncio.get_running_loop() not in http._sessions
    assert len(messenger.delivered) == 1


class _Runner:
    """Stands in for Rasa's graph runner: fails when two runs overlap."""

    active = 0
    overlaps = 0

    def run(self, inputs: Any = None, targets: Any = None) -> Any:
        type(self).active += 1
        if type(self).active > 1:
            type(self).overlaps += 1
        time.sleep(0.002)  # releases the GIL, as TensorFlow does
        type(self).active -= 1
        return {}


class _Agent:
    def __init__(self) -> None:
        self.lock_store = InMemoryLockStore()
        self.processor = type("Processor", (), {"graph_runner": _Runner()})()
        self.tracker_store = type("TrackerStore", (), {"event_broker": None})()


def test_rasa_lock_store_and_graph_runs_are_serialised_across_threads() -> None:
    agent = _Agent()
    TURNS.acquire()
    try:
        make_rasa_thread_safe(agent)
        make_rasa_thread_safe(agent)  # idempotent
        with ThreadPoolExecutor(4) as pool:
            tickets = list(pool.map(lambda _: agent.lock_store.issue_ticket("c"), range(400)))
            list(pool.map(lambda _: agent.processor.graph_runner.run(), range(40)))
    finally:
        asyncio.run(TURNS.release())
    assert len(set(tickets)) == 400
    assert _Runner.overlaps == 0
