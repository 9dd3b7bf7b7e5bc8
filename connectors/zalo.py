"""Zalo Official Account channel for Rasa: signed webhook in, Open API v3 customer-service messages out.

Webhook: POST /webhooks/zalo/webhook. The request is verified, de-duplicated and answered 200 at once; the
bot turn runs afterwards in a per-user ordered background queue (Zalo redelivers when 200 takes > ~2 s).
When a human officer answers from Zalo's chat tool (an ``oa_send_*`` echo with ``sender.admin_id``), the bot
stays silent for that user for ZALO_OFFICER_PAUSE_SECONDS (default 4 h, refreshed by every officer message);
the citizen's messages are then left to the officer instead of being forwarded to Rasa.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from cluster.lock_store import is_transient
from infra.metrics import registry
from connectors import http
from connectors.config import require, setting
from connectors.geo import location_payload, parse_coordinates
from connectors.logsafe import mask, short_id
from connectors.replies import MORE_OPTIONS, text_only_reply
from connectors.security import verify_zalo_signature
from connectors.stores import DedupeStore, HeldMessages, PauseStore
from connectors.textsplit import split_text
from connectors.faults import bot_turn, note_sent
from connectors.intake import accept_event
from connectors.turns import TURNS, attach_turns, on_turn_loop
from connectors.userqueue import UserQueue
from connectors.zalo_tokens import ZaloTokenManager

logger = logging.getLogger(__name__)

MAX_BUTTONS = 5
RETRY_CODES = {-32}
AUTH_CODES = {-216, -220}
# Final refusals about the user rather than the message (window, follower, night, restrictions): the message
# is kept and sent at the user's next interaction instead.
HOLD_CODES = {"-213", "-227", "-230", "-232", "-234", "-244"}
IGNORED_EVENTS = {"user_seen_message", "user_received_message", "unfollow", "user_submit_info"}
NON_TEXT_KINDS = {"image", "sticker", "gif", "file", "audio", "video", "link", "business_card"}

HandoffRecorder = Callable[[str, str, str, Optional[str]], Any]


def _default_handoff_recorder(sender_id: str, channel: str, reason: str, last: Optional[str]) -> Any:
    from onestop.handoffs.records import record_handoff  # lazy: pulls in the database layer

    return record_handoff(sender_id, channel, reason, last)


def classify_zalo(status: int, body: Any) -> Any:
    """Map a Zalo Send API answer to an Outcome (errors arrive as HTTP 200 with a negative ``error``)."""
    if status == 429 or status >= 500:
        return http.Outcome.RETRY, f"http{status}"
    if not isinstance(body, dict):
        return (http.Outcome.RETRY, "bad_body") if status >= 500 else (http.Outcome.FINAL, f"http{status}")
    try:
        code = int(body.get("error", 0 if status == 200 else status))
    except (TypeError, ValueError):
        code = -1
    if code == 0 and status < 400:
        return http.Outcome.OK, None
    if code in RETRY_CODES:
        return http.Outcome.RETRY, str(code)
    if code in AUTH_CODES:
        return http.Outcome.AUTH, str(code)
    # -213/-227/-230/-232/-234/-244 and anything unknown: final, never loop on it.
    return http.Outcome.FINAL, str(code)


def zalo_button(button: Dict[str, Any]) -> Dict[str, Any]:
    """A Rasa button as a Zalo template button (links open in the browser, the rest come back as text)."""
    title = str(button.get("title") or button.get("payload") or "")[:100]
    url = button.get("url")
    payload = str(button.get("payload") or title)
    if not url and button.get("type") == "web_url":
        url = payload
    if not url and payload.startswith(("http://", "https://")):
        url = payload
    if url:
        return {"title": title, "type": "oa.open.url", "payload": {"url": str(url)}}
    return {"title": title, "type": "oa.query.show", "payload": payload}


class ZaloOutput(OutputChannel):
    """Sends bot answers through Zalo's /v3.0/oa/message/cs with retries and token refresh."""

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return "zalo"

    def __init__(self, tokens: ZaloTokenManager, api_base: str = "https://openapi.zalo.me",
                 policy: Optional[http.RetryPolicy] = None, held: Optional[HeldMessages] = None) -> None:
        self.tokens = tokens
        self.held = held or HeldMessages("zalo")
        self.api_base = api_base.rstrip("/")
        self.policy = policy or http.env_policy(dict(os.environ))
        self.failures: List[Dict[str, Any]] = []  # recent permanent failures (bounded), for operators

    async def _post(self, recipient_id: str, message: Dict[str, Any], token: str) -> http.HttpResult:
        return await http.request(
            "POST", f"{self.api_base}/v3.0/oa/message/cs", classify_zalo, platform="zalo", policy=self.policy,
            json={"recipient": {"user_id": str(recipient_id)}, "message": message},
            headers={"access_token": token},
        )

    @on_turn_loop
    async def send_message(self, recipient_id: str, message: Dict[str, Any], hold: bool = True) -> bool:
        """Send one message object (on the turn loop); refresh the token once on -216/-220; keep it for the
        user's next interaction on a HOLD_CODES refusal (unless ``hold`` is False); never raises."""
        try:
            token = await self.tokens.access_token()
            result = await self._post(recipient_id, message, token)
            if result.outcome is http.Outcome.AUTH:
                new_token = await self.tokens.refresh(token)
                if new_token:
                    result = await self._post(recipient_id, message, new_token)
            if result.ok:
                registry().messages_out.labels(channel="zalo").inc()
                note_sent()
            else:
                self._record(recipient_id, result)
                if hold and result.code in HOLD_CODES:
                    await self.held.add(str(recipient_id), message)
            return result.ok
        except Exception:
            logger.exception("zalo send crashed for user %s", short_id(recipient_id))
            return False

    @on_turn_loop
    async def send_held(self, recipient_id: str) -> int:
        """Send the messages kept for the user once more (a second refusal is recorded, not kept)."""
        return await self.held.resend(str(recipient_id),
                                      lambda message: self.send_message(recipient_id, message, hold=False))

    def _record(self, recipient_id: str, result: http.HttpResult) -> None:
        registry().send_failures.labels(channel="zalo", code=str(result.code or "unknown")).inc()
        http.record_failure("zalo", result.code, result.body)
        self.failures.append({"user": str(recipient_id), "code": result.code, "attempts": result.attempts})
        del self.failures[:-100]

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Send text, split into parts of at most 2,000 characters."""
        for part in split_text(text):
            await self.send_message(recipient_id, {"text": part})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        """Text plus template buttons, 5 per message; extra buttons go in further messages."""
        parts = split_text(text) or [MORE_OPTIONS]
        for part in parts[:-1]:
            await self.send_message(recipient_id, {"text": part})
        zbuttons = [zalo_button(b) for b in buttons or []]
        if not zbuttons:
            await self.send_message(recipient_id, {"text": parts[-1]})
            return
        for i in range(0, len(zbuttons), MAX_BUTTONS):
            label = parts[-1] if i == 0 else MORE_OPTIONS
            await self.send_message(recipient_id, {
                "text": label,
                "attachment": {"type": "template", "payload": {"buttons": zbuttons[i:i + MAX_BUTTONS]}},
            })

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[str, Any]],
                                 **kwargs: Any) -> None:
        """Zalo has no quick replies: use template buttons."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image by URL (media template)."""
        await self.send_message(recipient_id, {"attachment": {"type": "template", "payload": {
            "template_type": "media", "elements": [{"media_type": "image", "url": image}]}}})

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        """Attachments are sent as their text/link."""
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """A raw Zalo message object (``{"message": {...}}`` or the message itself), or a neutral notification."""
        if isinstance(json_message, dict) and json_message.get("notification"):
            # Zalo has no tag for event updates: the reminder job only triggers these inside the interaction window.
            await self.send_text_message(recipient_id, str(json_message.get("text") or ""))
            return
        message = json_message.get("message", json_message) if isinstance(json_message, dict) else {}
        await self.send_message(recipient_id, message)


class ZaloInput(InputChannel):
    """Zalo OA webhook (POST /webhooks/zalo/webhook)."""

    REQUIRED = ("ZALO_APP_ID", "ZALO_OA_SECRET", "ZALO_ACCESS_TOKEN", "ZALO_REFRESH_TOKEN", "ZALO_APP_SECRET")

    @classmethod
    def name(cls) -> Text:
        """Channel name (also the URL prefix /webhooks/zalo)."""
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "ZaloInput":
        """Build from credentials / environment; raises ConnectorConfigError when a secret is missing."""
        values = {
            "ZALO_APP_ID": setting(credentials, "app_id", "ZALO_APP_ID"),
            "ZALO_OA_SECRET": setting(credentials, "oa_secret_key", "ZALO_OA_SECRET"),
            "ZALO_ACCESS_TOKEN": setting(credentials, "access_token", "ZALO_ACCESS_TOKEN"),
            "ZALO_REFRESH_TOKEN": setting(credentials, "refresh_token", "ZALO_REFRESH_TOKEN"),
            "ZALO_APP_SECRET": setting(credentials, "app_secret", "ZALO_APP_SECRET"),
        }
        require("zalo", values, cls.REQUIRED)
        return cls(
            app_id=values["ZALO_APP_ID"], oa_secret=values["ZALO_OA_SECRET"],
            access_token=values["ZALO_ACCESS_TOKEN"], refresh_token=values["ZALO_REFRESH_TOKEN"],
            app_secret=values["ZALO_APP_SECRET"],
            api_base=setting(credentials, "api_base", "ZALO_API_BASE", "https://openapi.zalo.me"),
            oauth_base=setting(credentials, "oauth_base", "ZALO_OAUTH_BASE", "https://oauth.zaloapp.com"),
            redis_url=setting(credentials, "redis_url", "REDIS_URL", ""),
        )

    def __init__(self, app_id: str, oa_secret: str, access_token: str, refresh_token: str, app_secret: str,
                 api_base: str = "https://openapi.zalo.me", oauth_base: str = "https://oauth.zaloapp.com",
                 redis_url: str = "", policy: Optional[http.RetryPolicy] = None,
                 pause_seconds: Optional[float] = None, handoff_recorder: Optional[HandoffRecorder] = None,
                 token_file: Optional[Any] = None) -> None:
        self.app_id = str(app_id)
        self.oa_secret = oa_secret
        self.tokens = ZaloTokenManager(self.app_id, app_secret, access_token, refresh_token, oauth_base,
                                       redis_url=redis_url, token_file=token_file)
        self.output = ZaloOutput(self.tokens, api_base, policy, HeldMessages("zalo", redis_url=redis_url))
        self.dedupe = DedupeStore("zalo", redis_url=redis_url)
        pause = pause_seconds if pause_seconds is not None else float(
            os.environ.get("ZALO_OFFICER_PAUSE_SECONDS", 4 * 3600))
        self.paused = PauseStore("zalo", pause, redis_url=redis_url)
        self.queue = UserQueue(TURNS)
        self.handoff_recorder = handoff_recorder or _default_handoff_recorder

    def get_output_channel(self) -> OutputChannel:
        """The channel's output (for proactive messages)."""
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Sanic routes: GET / (health) and POST /webhook."""
        bp = Blueprint("zalo_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            raw = request.body or b""
            try:
                event = json.loads(raw)
            except ValueError:
                return response.text("bad request", status=400)
            if not isinstance(event, dict):
                return response.text("bad request", status=400)
            ts = event.get("timestamp")
            if not verify_zalo_signature(request.headers.get("X-ZEvent-Signature"), self.app_id, raw,
                                         None if ts is None else str(ts), self.oa_secret):
                logger.warning("zalo webhook: missing or wrong signature, event ignored")
                return response.text("forbidden", status=403)
            try:
                agent = getattr(request.app.ctx, "agent", None)
                await self.handle_event(event, on_new_message, getattr(agent, "lock_store", None))
            except Exception as exc:
                logger.exception("zalo webhook: event %s could not be handled", event.get("event_name"))
                if is_transient(exc):
                    # Redis unreachable (the dedupe marker): not acknowledged, so Zalo delivers it again.
                    return response.text("temporarily unavailable", status=503)
                # Anything else: 200 anyway, a redelivery would fail the same way.
            return response.text("ok")

        attach_turns(bp, self)
        return bp

    async def aclose(self) -> None:
        """Release shared resources (Redis pools, the HTTP session) at shutdown."""
        await TURNS.run(self._aclose_turn_side())
        await self.dedupe.aclose()
        await http.close_session()

    async def _aclose_turn_side(self) -> None:
        # The pause markers, token store and held messages were opened on the turn loop: close them there.
        for store in (self.paused, self.tokens, self.output.held):
            await store.aclose()

    async def handle_event(self, event: Dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]],
                           lock_store: Any = None) -> None:
        """Dedupe and queue one verified event; returns before the bot turn runs (its lock ticket is reserved
        now, with the cluster's lock store, so one citizen's messages keep their order across servers)."""
        name = str(event.get("event_name") or "")
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        if name.startswith("oa_send_"):
            recipient = event.get("recipient") if isinstance(event.get("recipient"), dict) else {}
            user_id = str(recipient.get("id") or "")
            if sender.get("admin_id") and user_id:
                # Queued like the user's messages, so the pause applies to everything the user sends after it.
                self.queue.submit(user_id, lambda: self._officer_took_over(user_id))
            return
        if name in IGNORED_EVENTS:
            logger.debug("zalo event %s ignored", name)
            return
        if name == "follow":
            follower = event.get("follower") if isinstance(event.get("follower"), dict) else {}
            user_id = str(follower.get("id") or event.get("user_id_by_app") or "")
            if user_id and await self.dedupe.first_time(f"follow:{user_id}:{event.get('timestamp')}"):
                self.queue.submit(user_id, lambda: self._welcome(on_new_message, user_id, event))
            return
        if not name.startswith("user_send_"):
            logger.info("zalo event %s not handled", name)
            return
        user_id = str(sender.get("id") or "")
        msg_id = str(message.get("msg_id") or "")
        if not user_id:
            return
        kind = name[len("user_send_"):]
        await accept_event("zalo", user_id, msg_id, dedupe=self.dedupe, queue=self.queue, output=self.output,
                           lock_store=lock_store, bot_turn=kind in ("text", "location"),
                           process=lambda: self._process_user_event(on_new_message, kind, user_id, message, event))

    async def _process_user_event(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], kind: str,
                                  user_id: str, message: Dict[str, Any], event: Dict[str, Any]) -> None:
        if await self.paused.is_set(user_id):
            logger.info("zalo user %s is with an officer: message not sent to the bot", short_id(user_id))
            return
        await self.output.send_held(user_id)  # the user is back: what could not be sent before goes first
        if kind == "text":
            text = str(message.get("text") or "").strip()
            if text:
                await self._to_bot(on_new_message, text, user_id, event)
            return
        if kind == "location":
            coords = self._coordinates(message)
            if coords:  # the bot answers with the nearest office, or takes it as the office of a booking
                await self._to_bot(on_new_message, location_payload(*coords), user_id, event)
                return
        reply = text_only_reply(kind if kind in NON_TEXT_KINDS else "fallback")
        await self.output.send_text_message(user_id, reply)

    async def _welcome(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], user_id: str,
                       event: Dict[str, Any]) -> None:
        await self.output.send_held(user_id)  # a follower again: -213 refusals can be sent now
        await self._to_bot(on_new_message, "/greet", user_id, event)

    @staticmethod
    def _coordinates(message: Dict[str, Any]) -> Optional[Any]:
        for att in message.get("attachments") or []:
            payload = (att or {}).get("payload") or {}
            coords = payload.get("coordinates") or payload
            found = parse_coordinates(coords.get("latitude", coords.get("lat")),
                                      coords.get("longitude", coords.get("lon", coords.get("long"))))
            if found:
                return found
        return None

    async def _to_bot(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], text: str, user_id: str,
                      event: Dict[str, Any]) -> None:
        logger.debug("zalo user %s: %s", short_id(user_id), mask(text))
        metadata = {"platform": "zalo", "event_name": event.get("event_name"),
                    "timestamp": event.get("timestamp"), "user_id_by_app": event.get("user_id_by_app")}
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        msg_id = message.get("msg_id")
        if msg_id:
            metadata["msg_id"] = str(msg_id)
        await bot_turn(on_new_message, self.output, lambda output: UserMessage(
            text, output, user_id, input_channel=self.name(), metadata=metadata))

    async def _officer_took_over(self, user_id: str) -> None:
        first = not await self.paused.is_set(user_id)
        await self.paused.set(user_id)
        if not first:
            return
        logger.info("zalo user %s: an officer replied, bot paused", short_id(user_id))
        try:
            await asyncio.to_thread(self.handoff_recorder, user_id, "zalo", "officer_reply", None)
        except Exception:
            logger.exception("zalo: could not record the officer hand-off")
