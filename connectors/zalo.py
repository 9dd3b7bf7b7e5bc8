"""Zalo Official Account channel for Rasa: signed webhook in, Open API v3 customer-service messages out.

Webhook: POST /webhooks/zalo/webhook. The request is verified, de-duplicated and answered 200 at once; the
bot turn runs afterwards in a per-user ordered background queue (Zalo redelivers when 200 takes > ~2 s).
When a human officer answers from Zalo's chat tool (an ``oa_send_*`` echo with ``sender.admin_id``), the bot
stays silent for that user for ZALO_OFFICER_PAUSE_SECONDS (default 4 h, refreshed by every officer message);
the citizen's messages are then left to the officer instead of being forwarded to Rasa, until the officer closes
the hand-off in the staff console: the next message then finds it closed and goes to the bot again.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, Text

from connectors import http
from connectors.base import (REDIS_SETTING, Incoming, OnNewMessage, PlatformInput, PlatformOutput, Rejected,
                             Setting, required)
from connectors.geo import location_payload, parse_coordinates
from connectors.replies import MORE_OPTIONS
from connectors.security import verify_zalo_signature
from connectors.stores import HeldMessages, PauseStore
from connectors.textsplit import split_text
from connectors.turns import on_turn_loop
from connectors.zalo_tokens import ZaloTokenManager
from infra.masking import user_ref
from infra.retry import RetryPolicy

logger = logging.getLogger(__name__)

MAX_BUTTONS = 5
RETRY_CODES = {-32}
AUTH_CODES = {-216, -220}
# Final refusals about the user rather than the message (window, follower, night, restrictions): the message
# is kept and sent at the user's next interaction instead.
HOLD_CODES = frozenset({"-213", "-227", "-230", "-232", "-234", "-244"})
IGNORED_EVENTS = {"user_seen_message", "user_received_message", "unfollow", "user_submit_info"}
NON_TEXT_KINDS = {"image", "sticker", "gif", "file", "audio", "video", "link", "business_card"}

HandoffRecorder = Callable[[str, str, str, Optional[str]], Any]
HandoffCheck = Callable[[str], bool]


def _default_handoff_recorder(sender_id: str, channel: str, reason: str, last: Optional[str]) -> Any:
    from onestop.handoffs.records import record_handoff  # lazy: pulls in the database layer

    return record_handoff(sender_id, channel, reason, last)


def _default_handoff_check(sender_id: str) -> bool:
    from onestop.handoffs.records import is_open  # lazy: pulls in the database layer

    return is_open(sender_id)


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


class ZaloOutput(PlatformOutput):
    """Sends bot answers through Zalo's /v3.0/oa/message/cs with retries and token refresh."""

    HOLD_CODES = HOLD_CODES

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return "zalo"

    def __init__(self, tokens: ZaloTokenManager, api_base: str = "https://openapi.zalo.me",
                 policy: Optional[RetryPolicy] = None, held: Optional[HeldMessages] = None) -> None:
        super().__init__(held, policy)
        self.tokens = tokens
        self.api_base = api_base.rstrip("/")

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
            return await self.settle(recipient_id, result, message, hold)
        except Exception:
            logger.exception("zalo send crashed for user %s", user_ref(recipient_id))
            return False

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


def parse_user_event(name: str, event: Dict[str, Any]) -> Optional[Incoming]:
    """A ``user_send_*`` event as a citizen event (None without a sender): text and locations go to the bot,
    the other kinds get the "text only" reply."""
    sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    user_id = str(sender.get("id") or "")
    if not user_id:
        return None
    kind = name[len("user_send_"):]
    msg_id = str(message.get("msg_id") or "")
    metadata = {"platform": "zalo", "event_name": event.get("event_name"), "timestamp": event.get("timestamp"),
                "user_id_by_app": event.get("user_id_by_app")}
    if message.get("msg_id"):
        metadata["msg_id"] = msg_id
    incoming = Incoming(user_id, msg_id, metadata=metadata, bot_turn=kind in ("text", "location"))
    if kind == "text":
        incoming.text = str(message.get("text") or "").strip()
        return incoming
    coords = _coordinates(message) if kind == "location" else None
    if coords:  # the bot answers with the nearest office, or takes it as the office of a booking
        incoming.text = location_payload(*coords)
    else:
        incoming.reply_kind = kind if kind in NON_TEXT_KINDS else "fallback"
    return incoming


def _coordinates(message: Dict[str, Any]) -> Optional[Any]:
    for att in message.get("attachments") or []:
        payload = (att or {}).get("payload") or {}
        coords = payload.get("coordinates") or payload
        found = parse_coordinates(coords.get("latitude", coords.get("lat")),
                                  coords.get("longitude", coords.get("lon", coords.get("long"))))
        if found:
            return found
    return None


class ZaloInput(PlatformInput):
    """Zalo OA webhook (POST /webhooks/zalo/webhook)."""

    SETTINGS = (
        Setting("app_id", "app_id", "ZALO_APP_ID"),
        Setting("oa_secret", "oa_secret_key", "ZALO_OA_SECRET"),
        Setting("access_token", "access_token", "ZALO_ACCESS_TOKEN"),
        Setting("refresh_token", "refresh_token", "ZALO_REFRESH_TOKEN"),
        Setting("app_secret", "app_secret", "ZALO_APP_SECRET"),
        Setting("api_base", "api_base", "ZALO_API_BASE", "https://openapi.zalo.me"),
        Setting("oauth_base", "oauth_base", "ZALO_OAUTH_BASE", "https://oauth.zaloapp.com"),
        REDIS_SETTING,
    )
    REQUIRED = required(SETTINGS)

    @classmethod
    def name(cls) -> Text:
        """Channel name (also the URL prefix /webhooks/zalo)."""
        return "zalo"

    def __init__(self, app_id: str, oa_secret: str, access_token: str, refresh_token: str, app_secret: str,
                 api_base: str = "https://openapi.zalo.me", oauth_base: str = "https://oauth.zaloapp.com",
                 redis_url: str = "", policy: Optional[RetryPolicy] = None,
                 pause_seconds: Optional[float] = None, handoff_recorder: Optional[HandoffRecorder] = None,
                 token_file: Optional[Any] = None, handoff_check: Optional[HandoffCheck] = None) -> None:
        self.app_id = str(app_id)
        self.oa_secret = oa_secret
        self.tokens = ZaloTokenManager(self.app_id, app_secret, access_token, refresh_token, oauth_base,
                                       redis_url=redis_url, token_file=token_file)
        super().__init__(ZaloOutput(self.tokens, api_base, policy, HeldMessages("zalo", redis_url=redis_url)),
                         redis_url)
        pause = pause_seconds if pause_seconds is not None else float(
            os.environ.get("ZALO_OFFICER_PAUSE_SECONDS", 4 * 3600))
        self.paused = PauseStore("zalo", pause, redis_url=redis_url)
        self.handoff_recorder = handoff_recorder or _default_handoff_recorder
        # Whether the officer's hand-off is still open (onestop.handoffs.is_open): closing it in the staff console
        # gives the conversation back to the bot.
        self.handoff_check = handoff_check or _default_handoff_check

    def read_delivery(self, raw: bytes, headers: Mapping[str, str]) -> Any:
        """The event, once X-ZEvent-Signature matches (the body's timestamp is part of the MAC)."""
        try:
            event = json.loads(raw)
        except ValueError:
            raise Rejected(400, "bad request") from None
        if not isinstance(event, dict):
            raise Rejected(400, "bad request")
        ts = event.get("timestamp")
        if not verify_zalo_signature(headers.get("X-ZEvent-Signature"), self.app_id, raw,
                                     None if ts is None else str(ts), self.oa_secret):
            raise Rejected(403, "forbidden")
        return event

    def turn_side_stores(self) -> List[Any]:
        """The pause markers, token store and held messages: opened on the turn loop."""
        return [self.paused, self.tokens, self.output.held]

    async def handle_delivery(self, event: Dict[str, Any], on_new_message: OnNewMessage,
                              lock_store: Any = None) -> None:
        """Dedupe and queue one verified event; returns before the bot turn runs (its lock ticket is reserved
        now, with the cluster's lock store, so one citizen's messages keep their order across servers)."""
        name = str(event.get("event_name") or "")
        if name.startswith("oa_send_"):
            sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
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
        incoming = parse_user_event(name, event)
        if incoming is not None:
            await self.accept(incoming, on_new_message, lock_store)

    async def process(self, on_new_message: OnNewMessage, incoming: Incoming) -> None:
        """The queued turn of one event, unless an officer has the conversation."""
        if await self.paused.is_set(incoming.user_id) and await self._with_officer(incoming.user_id):
            logger.info("zalo user %s is with an officer: message not sent to the bot", user_ref(incoming.user_id))
            return
        await super().process(on_new_message, incoming)

    async def _with_officer(self, user_id: str) -> bool:
        """True while the paused user's hand-off is open; once an officer closed it (staff console), the pause
        is cleared. A database error keeps the pause: better the officer sees a message than both answer it."""
        if await self._handoff_open(user_id) is not False:
            return True
        await self.paused.clear(user_id)
        logger.info("zalo user %s: hand-off closed by an officer, bot resumed", user_ref(user_id))
        return False

    async def _handoff_open(self, user_id: str) -> Optional[bool]:
        """``handoff_check`` off the event loop; None (logged) when the database could not tell."""
        try:
            return bool(await asyncio.to_thread(self.handoff_check, user_id))
        except Exception:
            logger.exception("zalo user %s: could not check the hand-off", user_ref(user_id))
            return None

    async def _welcome(self, on_new_message: OnNewMessage, user_id: str, event: Dict[str, Any]) -> None:
        await self.output.send_held(user_id)  # a follower again: -213 refusals can be sent now
        await self.to_bot(on_new_message, "/greet", user_id, {
            "platform": "zalo", "event_name": event.get("event_name"), "timestamp": event.get("timestamp"),
            "user_id_by_app": event.get("user_id_by_app")})

    async def _officer_took_over(self, user_id: str) -> None:
        already = await self.paused.is_set(user_id)
        await self.paused.set(user_id)
        # An officer writing again after closing the hand-off in the console opens a new one, else the pause
        # would be cleared at the citizen's next message while the officer is still talking.
        if already and await self._handoff_open(user_id) is not False:
            return
        logger.info("zalo user %s: an officer replied, bot paused", user_ref(user_id))
        try:
            await asyncio.to_thread(self.handoff_recorder, user_id, "zalo", "officer_reply", None)
        except Exception:
            logger.exception("zalo: could not record the officer hand-off")
