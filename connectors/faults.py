"""What a connector turn does when something it depends on fails: a turn is either applied whole or not at all,
and the citizen hears about a failure instead of getting silence.

- Redis away (restart, failover): Rasa 3.6 wraps every tracker store in FailSafeTrackerStore, which answers a
  failed read with "no tracker" (the turn then runs on an empty conversation, whose save, once Redis is back,
  merges into the real one) and a failed save with an in-memory copy this server alone sees. With
  ``install_fault_handling`` those errors are raised instead; the connector runs the turn again
  (``retry_turn``), and since the answers of a turn are held until it has ended (``HeldOutput``), a failed turn
  has sent nothing and repeating it sends nothing twice.
- A custom action that fails (action server down or killed, HTTP 5xx): Rasa logs it, drops the action's events
  and carries on, usually to action_listen. The citizen now gets ``ACTION_FAILED_VI``.
"""
from __future__ import annotations

import contextvars
import functools
import logging
import os
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import OutputChannel

from cluster.lock_store import is_transient
from infra.retry import RetryPolicy

logger = logging.getLogger(__name__)

ACTION_FAILED_VI = ("Xin lỗi, hệ thống đang bận hoặc tạm gián đoạn nên tôi chưa trả lời được. "
                    "Anh/chị vui lòng thử lại sau ít phút.")
_MARK = "_connector_fault_handling"
# A turn that failed on a passing outage is run again until CONNECTOR_TURN_RETRY_SECONDS have passed: the deadline,
# not the attempts, bounds it (0.5 s doubling to 5 s, with jitter so that the turns stopped by one Redis restart
# do not all come back at the same instant).
TURN_RETRY = RetryPolicy(max_attempts=10_000, base_delay=0.5, max_delay=5.0)
_apologised: "OrderedDict[Tuple[str, str], None]" = OrderedDict()
# Messages the platform accepted during the current turn (one list per running turn, see retry_turn).
_turn_sent: "contextvars.ContextVar[Optional[List[int]]]" = contextvars.ContextVar("turn_sent", default=None)
_turn_output: "contextvars.ContextVar[Optional[HeldOutput]]" = contextvars.ContextVar("turn_output", default=None)


def note_sent() -> None:
    """Record that the current turn delivered a message (a turn that answered must not be run again)."""
    sent = _turn_sent.get()
    if sent is not None:
        sent[0] += 1


class HeldOutput(OutputChannel):
    """The bot's answers in one turn, kept until Rasa has saved the turn's tracker, then sent in order."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.held: List[Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = []

    def name(self) -> Text:  # type: ignore[override]
        """The real channel's name."""
        return self.inner.name()

    async def flush(self) -> None:
        """Send what the turn said, in order."""
        held, self.held = self.held, []
        for method, args, kwargs in held:
            await getattr(self.inner, method)(*args, **kwargs)


def _keep(method: str) -> Callable[..., Awaitable[None]]:
    async def keep(self: HeldOutput, *args: Any, **kwargs: Any) -> None:
        self.held.append((method, args, kwargs))

    keep.__name__ = method
    keep.__doc__ = f"Keep a ``{method}`` call for ``flush``."
    return keep


# Rasa calls send_response; actions' helpers and tests may call the typed methods directly.
for _method in ("send_response", "send_text_message", "send_image_url", "send_attachment", "send_text_with_buttons",
                "send_quick_replies", "send_elements", "send_custom_json"):
    setattr(HeldOutput, _method, _keep(_method))


async def bot_turn(on_new_message: Callable[[Any], Awaitable[Any]], output: OutputChannel,
                   make_message: Callable[[OutputChannel], Any]) -> None:
    """Run one Rasa turn for the message ``make_message`` builds, sending its answers once the turn is saved.

    They go out as soon as the tracker is saved, still inside the conversation's lock (see
    ``_install_tracker_store_errors_raise``), so that the next turn, maybe on another server, answers after."""
    held = HeldOutput(output)
    token = _turn_output.set(held)
    try:
        await on_new_message(make_message(held))
        await held.flush()  # a turn that saved nothing (Rasa declined the message) may still have spoken
    finally:
        _turn_output.reset(token)


async def retry_turn(turn: Callable[[], Awaitable[None]], what: str,
                     on_give_up: Optional[Callable[[], Awaitable[None]]] = None) -> None:
    """Run ``turn``; while it fails on a transient error (Redis restarting, ...) before sending anything, run it
    again with backoff (``TURN_RETRY``) for up to CONNECTOR_TURN_RETRY_SECONDS (default 60).

    The webhook was acknowledged already, so the platform will not deliver the message again: without this a
    turn that hit Redis while it restarted would be lost. A turn that failed after answering is not repeated
    (the citizen would get the answer twice). ``on_give_up`` runs when the turn failed for good; the error is
    then re-raised.
    """
    deadline = time.monotonic() + float(os.environ.get("CONNECTOR_TURN_RETRY_SECONDS", "60"))
    sent = [0]
    token = _turn_sent.set(sent)
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                await turn()
                return
            except Exception as exc:
                if is_transient(exc) and not sent[0]:
                    logger.warning("%s: attempt %d failed before answering (%s: %s)", what, attempt,
                                   type(exc).__name__, exc)
                    if await TURN_RETRY.wait(attempt, deadline):
                        continue
                if on_give_up is not None:
                    try:
                        await on_give_up()
                    except Exception:
                        logger.warning("%s: clean-up after the failed turn failed too", what, exc_info=True)
                raise
    finally:
        _turn_sent.reset(token)


async def accepted_turn(turn: Callable[[], Awaitable[None]], what: str, output: Any, recipient_id: Text,
                        forget: Callable[[], Awaitable[None]]) -> None:
    """Run a turn whose webhook was acknowledged (``retry_turn``); when it fails for good, ``forget`` its dedupe
    marker (a redelivery is then not taken for a duplicate) and apologise to the citizen."""

    async def give_up() -> None:
        await forget()
        await apologise(output, recipient_id)

    await retry_turn(turn, what, on_give_up=give_up)


async def apologise(output_channel: Any, recipient_id: Text, key: Optional[Tuple[str, str]] = None) -> None:
    """Send ``ACTION_FAILED_VI`` (once per ``key``, when given); never raises."""
    if key is not None:
        if key in _apologised:
            return
        _apologised[key] = None
        while len(_apologised) > 1000:
            _apologised.popitem(last=False)
    try:
        await output_channel.send_response(recipient_id, {"text": ACTION_FAILED_VI})
    except Exception:
        logger.exception("could not send the apology for a failed turn")


def _install_action_failure_apology() -> None:
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    original = RemoteAction.run

    @functools.wraps(original)
    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:  # a form declining a slot: normal dialogue
            raise
        except Exception:
            # Once per user message, even when several actions of the turn fail; then Rasa's own handling
            # (events dropped, the turn goes on) is unchanged.
            latest = getattr(tracker, "latest_message", None)
            await apologise(output_channel, tracker.sender_id,
                            (str(tracker.sender_id), str(getattr(latest, "message_id", "") or "")))
            raise

    RemoteAction.run = run  # type: ignore[method-assign]


def _install_tracker_store_errors_raise() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    def strict(name: str) -> Callable[..., Any]:
        fail_safe = getattr(FailSafeTrackerStore, name)

        @functools.wraps(fail_safe)
        async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                result = await getattr(self._tracker_store, name)(*args, **kwargs)
            except Exception as exc:
                if is_transient(exc):
                    raise
                result = await fail_safe(self, *args, **kwargs)  # anything else: Rasa's fallback, as before
            held = _turn_output.get()
            if name == "save" and held is not None:
                await held.flush()  # the turn is saved: its answers go out while its lock is still held
            return result

        return method

    for name in ("retrieve", "retrieve_full_tracker", "save"):
        setattr(FailSafeTrackerStore, name, strict(name))


def install_fault_handling() -> None:
    """Patch Rasa (once per process): failed custom actions apologise, tracker store outages raise."""
    from rasa.core.actions.action import RemoteAction

    if RemoteAction.__dict__.get(_MARK, False):
        return
    _install_action_failure_apology()
    _install_tracker_store_errors_raise()
    setattr(RemoteAction, _MARK, True)
