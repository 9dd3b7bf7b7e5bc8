"""Turn failures without real Rasa processes: webhooks refuse what they cannot accept, failed turns are retried
only when nothing was sent, answers wait for the saved tracker, failed actions apologise, tracker store outages
are raised instead of being papered over (tests/cluster/test_faults.py has the same on real processes)."""
from __future__ import annotations

from typing import Any, List

import pytest
import redis.exceptions
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from connectors import faults
from connectors.messenger import MessengerInput
from tests.connectors.conftest import BotStub, fast_policy, free_port, post, serve_channel, text_delivery
from tests.fakes.fake_messenger import FakeMessenger

APP_SECRET = "faults-app-secret"


async def test_webhook_answers_503_when_redis_is_unreachable_so_the_platform_redelivers(
        messenger: FakeMessenger) -> None:
    nobody = f"redis://127.0.0.1:{free_port()}/0"
    channel = MessengerInput(messenger.page_token, APP_SECRET, "v", graph_base=messenger.base_url,
                             policy=fast_policy(), redis_url=nobody)
    bot = BotStub()
    async with serve_channel(channel, bot) as base:
        assert (await post(f"{base}/webhook", *text_delivery("u1", "chào bạn", APP_SECRET))).status == 503
        await channel.queue.drain(5)
    assert bot.texts == []


async def test_a_turn_failing_on_redis_before_answering_is_run_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TURN_RETRY_SECONDS", "10")
    calls: List[int] = []

    async def turn() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise redis.exceptions.ConnectionError("Connection closed by server.")

    await faults.retry_turn(turn, "test")
    assert len(calls) == 3


async def test_a_turn_that_answered_or_failed_for_good_is_not_repeated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_TURN_RETRY_SECONDS", "10")
    calls: List[str] = []

    async def answered_then_failed() -> None:
        calls.append("answered")
        faults.note_sent()
        raise redis.exceptions.ConnectionError("gone")

    async def broken() -> None:
        calls.append("broken")
        raise ValueError("a bug, not an outage")

    async def gave_up() -> None:
        calls.append("gave up")

    with pytest.raises(redis.exceptions.ConnectionError):
        await faults.retry_turn(answered_then_failed, "test", on_give_up=gave_up)
    with pytest.raises(ValueError):
        await faults.retry_turn(broken, "test", on_give_up=gave_up)
    assert calls == ["answered", "gave up", "broken", "gave up"]


async def test_answers_are_held_until_the_turn_ends_and_sent_in_order() -> None:
    out = CollectingOutputChannel()

    async def on_new_message(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "một"})
        await message.output_channel.send_text_message(message.sender_id, "hai")
        assert out.messages == []  # nothing leaves before the turn is over

    await faults.bot_turn(on_new_message, out, lambda held: UserMessage("x", held, "u1"))
    assert [m["text"] for m in out.messages] == ["một", "hai"]

    async def failing(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "ba")
        raise redis.exceptions.ConnectionError("gone")

    with pytest.raises(redis.exceptions.ConnectionError):
        await faults.bot_turn(failing, out, lambda held: UserMessage("x", held, "u1"))
    assert [m["text"] for m in out.messages] == ["một", "hai"]  # the failed turn said nothing


class _Broken:
    """A tracker store whose Redis is gone, or that has a bug."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.event_broker = None
        self.domain = None

    async def retrieve(self, sender_id: str) -> Any:
        raise self.error

    async def save(self, tracker: Any) -> None:
        raise self.error


async def test_tracker_store_outages_are_raised_other_errors_fall_back_as_in_rasa() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    faults.install_fault_handling()
    outage = FailSafeTrackerStore(_Broken(redis.exceptions.ConnectionError("gone")))  # type: ignore[arg-type]
    with pytest.raises(redis.exceptions.ConnectionError):
        await outage.retrieve("u1")
    bug = FailSafeTrackerStore(_Broken(KeyError("bug")))  # type: ignore[arg-type]
    assert await bug.retrieve("u1") is None


async def test_a_failed_custom_action_apologises_once_per_message() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    faults.install_fault_handling()
    action = RemoteAction("action_x", EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook"))
    tracker = DialogueStateTracker.from_events("u-apology", [UserUttered("hi", message_id="m1")])
    out = CollectingOutputChannel()
    for _ in range(2):
        with pytest.raises(Exception):
            await action.run(out, None, tracker, Domain.empty())  # type: ignore[arg-type]
    assert [m["text"] for m in out.messages] == [faults.ACTION_FAILED_VI]
