"""What the Zalo and Messenger channels share, in the shape of Rasa 3.6's ``facebook.py``: each channel parses
its platform's events into ``Incoming`` events, answers through a ``PlatformOutput`` and is an ``PlatformInput``
built by ``from_credentials`` that serves the webhook blueprint.

Written once here: settings from credentials or the environment (``${ENV}`` placeholders, defaults, required
secrets), the bookkeeping of a failed send (metrics, ``connectors.http.FAILURES``, the recent-failures list,
messages held for the user's next interaction), and the webhook's path: verify, acknowledge at once (503 when
Redis is away so that the platform delivers again), de-duplicate, queue the turn on the turn thread.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, FrozenSet, List, Mapping, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from cluster.lock_store import is_transient
from connectors import http
from connectors.config import require, setting
from connectors.faults import bot_turn, note_sent
from connectors.intake import accept_event
from connectors.logsafe import mask
from connectors.replies import text_only_reply
from connectors.stores import DedupeStore, HeldMessages
from connectors.textsplit import split_text
from connectors.turns import TURNS, attach_turns, on_turn_loop
from connectors.userqueue import UserQueue
from infra.masking import user_ref
from infra.metrics import registry
from infra.retry import RetryPolicy

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Setting:
    """One constructor argument read by ``from_credentials``: credentials key, then environment variable, then
    ``default``; a ``None`` default marks a required secret (it never has a default)."""

    param: str
    key: str
    env: str
    default: Optional[str] = None


REDIS_SETTING = Setting("redis_url", "redis_url", "REDIS_URL", "")


def required(settings: Tuple[Setting, ...]) -> Tuple[str, ...]:
    """The environment variable names of the required secrets among ``settings``."""
    return tuple(s.env for s in settings if s.default is None)


@dataclass
class Incoming:
    """One citizen event, parsed: who sent it, the platform's id of it (for dedupe), and what it asks for.

    ``text`` goes to the bot as a turn; without it, ``reply_kind`` names the attachment answered with the
    "text only" reply ("" = nothing to answer). ``bot_turn`` reserves the conversation's lock ticket on arrival.
    """

    user_id: str
    event_id: str
    text: Optional[str] = None
    reply_kind: str = ""
    metadata: Dict[str, Any] = field(default_factory=dict)
    bot_turn: bool = True


class PlatformOutput(OutputChannel):
    """Answers to one platform; subclasses send one message object (``send_message``), this class does the rest
    common to both: splitting text, settling a send (counted, or recorded and maybe held), re-sending held ones."""

    # Refusals about the user rather than the message (window, follower, ...): the message is kept and sent at
    # the user's next interaction instead.
    HOLD_CODES: FrozenSet[str] = frozenset()

    def __init__(self, held: Optional[HeldMessages] = None, policy: Optional[RetryPolicy] = None) -> None:
        self.held = held or HeldMessages(self.name())
        self.policy = policy or http.env_policy(dict(os.environ))
        self.failures: List[Dict[str, Any]] = []  # recent permanent failures (bounded), for operators

    async def send_message(self, recipient_id: str, message: Dict[str, Any], hold: bool = True) -> bool:
        """Send one platform message object; never raises."""
        raise NotImplementedError

    def holds(self, code: Optional[str]) -> bool:
        """True when a refusal with ``code`` means the message should wait for the user's next interaction."""
        return str(code or "") in self.HOLD_CODES

    async def settle(self, recipient_id: str, result: http.HttpResult, message: Optional[Dict[str, Any]],
                     hold: bool = True) -> bool:
        """Count a delivered message, or record a failure and keep ``message`` (when ``hold`` and the refusal is
        about the user); returns whether the platform accepted it."""
        channel = self.name()
        if result.ok:
            if message is not None:
                registry().messages_out.labels(channel=channel).inc()
                note_sent()
            return True
        registry().send_failures.labels(channel=channel, code=str(result.code or "unknown")).inc()
        http.record_failure(channel, result.code, result.body)
        self.failures.append({"user": str(recipient_id), "code": result.code, "attempts": result.attempts})
        del self.failures[:-100]
        if hold and message is not None and self.holds(result.code):
            await self.held.add(str(recipient_id), message)
        return False

    @on_turn_loop
    async def send_held(self, recipient_id: str) -> int:
        """Send the messages kept for the user once more (a second refusal is recorded, not kept)."""
        return await self.held.resend(str(recipient_id),
                                      lambda message: self.send_message(recipient_id, message, hold=False))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Send text, split into parts of at most 2,000 characters."""
        for part in split_text(text):
            await self.send_message(recipient_id, {"text": part})


class Rejected(Exception):
    """A webhook request refused before anything was queued (bad signature, bad JSON)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class PlatformInput(InputChannel):
    """A platform webhook (POST /webhooks/<name>/webhook) whose turns run on the turn thread.

    Subclasses list their ``SETTINGS``, verify and parse a request body (``read_delivery``) and take its events
    (``handle_delivery``, with ``accept`` for each citizen event)."""

    SETTINGS: Tuple[Setting, ...] = ()
    REQUIRED: Tuple[str, ...] = ()
    ACK = "ok"  # the body of the 200 answer

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "PlatformInput":
        """Build from credentials / environment; raises ConnectorConfigError when a secret is missing."""
        values = {s.param: setting(credentials, s.key, s.env, s.default or "") for s in cls.SETTINGS}
        require(cls.name(), {s.env: values[s.param] for s in cls.SETTINGS}, cls.REQUIRED)
        return cls(**values)

    def __init__(self, output: PlatformOutput, redis_url: str = "") -> None:
        self.output = output
        self.dedupe = DedupeStore(self.name(), redis_url=redis_url)
        self.queue = UserQueue(TURNS)
        self.logger = logging.getLogger(type(self).__module__)

    def get_output_channel(self) -> OutputChannel:
        """The channel's output (for proactive messages)."""
        return self.output

    def read_delivery(self, raw: bytes, headers: Mapping[str, str]) -> Any:
        """The verified, parsed body of a webhook POST; raises Rejected."""
        raise NotImplementedError

    async def handle_delivery(self, delivery: Any, on_new_message: OnNewMessage, lock_store: Any = None) -> None:
        """Dedupe and queue the events of a verified delivery; returns before any bot turn runs."""
        raise NotImplementedError

    def add_routes(self, bp: Blueprint) -> None:
        """Routes of the platform's own beside health and the POST webhook (none by default)."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Sanic routes: GET / (health), POST /webhook (events) and the platform's own."""
        bp = Blueprint(f"{self.name()}_webhook", type(self).__module__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        self.add_routes(bp)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                delivery = self.read_delivery(request.body or b"", request.headers)
            except Rejected as rejected:
                if rejected.status == 403:
                    self.logger.warning("%s webhook: missing or wrong signature, delivery ignored", self.name())
                return response.text(rejected.text, status=rejected.status)
            try:
                agent = getattr(request.app.ctx, "agent", None)
                await self.handle_delivery(delivery, on_new_message, getattr(agent, "lock_store", None))
            except Exception as exc:
                self.logger.exception("%s webhook: delivery could not be handled", self.name())
                if is_transient(exc):
                    # Redis unreachable (the dedupe marker, the lock ticket): not acknowledged, so the platform
                    # delivers it again; items already queued are de-duplicated then.
                    return response.text("temporarily unavailable", status=503)
                # Anything else: acknowledged anyway, a redelivery would fail the same way.
            return response.text(self.ACK)

        attach_turns(bp, self)
        return bp

    def turn_side_stores(self) -> List[Any]:
        """Stores opened on the turn loop, closed there at shutdown."""
        return [self.output.held]

    async def aclose(self) -> None:
        """Release shared resources (Redis pools, the HTTP session) at shutdown."""
        await TURNS.run(self._aclose_turn_side())
        await self.dedupe.aclose()
        await http.close_session()

    async def _aclose_turn_side(self) -> None:
        for store in self.turn_side_stores():
            await store.aclose()

    async def accept(self, incoming: Incoming, on_new_message: OnNewMessage, lock_store: Any = None) -> bool:
        """Dedupe, count and queue one citizen event (connectors.intake); False for a redelivery."""
        return await accept_event(self.name(), incoming.user_id, incoming.event_id, dedupe=self.dedupe,
                                  queue=self.queue, output=self.output, lock_store=lock_store,
                                  bot_turn=incoming.bot_turn, process=lambda: self.process(on_new_message, incoming))

    async def process(self, on_new_message: OnNewMessage, incoming: Incoming) -> None:
        """The queued turn of one event: held messages first, then the bot's turn or the "text only" reply."""
        await self.output.send_held(incoming.user_id)  # the user is back: what could not be sent before goes first
        if incoming.text:
            await self.to_bot(on_new_message, incoming.text, incoming.user_id, incoming.metadata)
        elif incoming.reply_kind:
            await self.output.send_text_message(incoming.user_id, text_only_reply(incoming.reply_kind))

    async def to_bot(self, on_new_message: OnNewMessage, text: str, user_id: str, metadata: Dict[str, Any]) -> None:
        """Run one Rasa turn for ``text``; its answers go out once the turn is saved (connectors.faults)."""
        self.logger.debug("%s user %s: %s", self.name(), user_ref(user_id), mask(text))
        await bot_turn(on_new_message, self.output, lambda output: UserMessage(
            text, output, user_id, input_channel=self.name(), metadata=metadata))
