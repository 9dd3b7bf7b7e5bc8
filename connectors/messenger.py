"""Facebook Messenger channel for Rasa (named "messenger", independent of Rasa's "facebook" channel).

Webhook: GET/POST /webhooks/messenger/webhook. POSTs are verified with X-Hub-Signature-256 (constant time),
answered 200 at once, de-duplicated on ``mid`` and processed in a per-user ordered background queue. Every
entry and every messaging item is handled; ``standby``/``changes`` entries are logged and skipped.
"""
from __future__ import annotations

import hmac
import json
import logging
from typing import Any, Dict, List, Mapping, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import http
from connectors.base import (REDIS_SETTING, Incoming, OnNewMessage, PlatformInput, PlatformOutput, Rejected,
                             Setting, required)
from connectors.geo import location_payload, parse_coordinates
from connectors.replies import MORE_OPTIONS
from connectors.security import verify_messenger_signature
from connectors.stores import HeldMessages
from connectors.textsplit import split_text
from connectors.turns import on_turn_loop
from infra.retry import RetryPolicy

logger = logging.getLogger(__name__)

MAX_TEMPLATE_BUTTONS = 3
MAX_TEMPLATE_TEXT = 640
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000
RATE_LIMIT_CODES = {4, 613, 32, 17}
# Final refusals about the user rather than the message: 551 person unavailable (any subcode), 10/2018278
# outside the 24 h window. The message is kept and sent at the user's next message instead.
HOLD_CODES = frozenset({"551", "10/2018278"})
TEMPORARY_CODES = {1, 2}


def classify_graph(status: int, body: Any) -> Any:
    """Map a Graph API answer to an Outcome (4/613 rate limits retried; 190, 551, 10/2018278 final)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        sub = error.get("error_subcode")
        label = f"{code}/{sub}" if sub else str(code)
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = -1
        if code in RATE_LIMIT_CODES or code in TEMPORARY_CODES or error.get("is_transient"):
            return http.Outcome.RETRY, label
        return http.Outcome.FINAL, label
    if status == 429 or status >= 500:
        return http.Outcome.RETRY, f"http{status}"
    if status >= 400:
        return http.Outcome.FINAL, f"http{status}"
    return http.Outcome.OK, None


def short_title(title: Any, limit: int = MAX_TITLE) -> str:
    """A title cut to ``limit`` characters, ending with "…" when cut."""
    text = str(title or "").strip()
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    # Prefer ending on a whole word when that keeps most of the title.
    if " " in cut and cut.rindex(" ") >= limit // 2:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip() + "…"


def _button_url(button: Dict[str, Any]) -> Optional[str]:
    url = button.get("url")
    payload = str(button.get("payload") or "")
    if not url and (button.get("type") == "web_url" or payload.startswith(("http://", "https://"))):
        url = payload
    return str(url) if url else None


def _payload(button: Dict[str, Any]) -> str:
    payload = str(button.get("payload") or button.get("title") or "")
    if len(payload) > MAX_PAYLOAD:
        # A cut payload would mean something else; the title, sent back as text, is understood by the NLU.
        logger.warning("messenger: button payload over %d characters, using its title", MAX_PAYLOAD)
        payload = str(button.get("title") or "")[:MAX_PAYLOAD]
    return payload


class MessengerOutput(PlatformOutput):
    """Sends answers through the Graph Send API with typing indicators, splitting and retries."""

    HOLD_CODES = HOLD_CODES

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return "messenger"

    def __init__(self, page_token: str, graph_base: str = "https://graph.facebook.com",
                 graph_version: str = "v21.0", policy: Optional[RetryPolicy] = None,
                 held: Optional[HeldMessages] = None) -> None:
        super().__init__(held, policy)
        self.page_token = page_token
        self.url = f"{graph_base.rstrip('/')}/{graph_version.strip('/')}/me/messages"

    def holds(self, code: Optional[str]) -> bool:
        """551 is final whatever its subcode; 10 only with subcode 2018278 (outside the 24 h window)."""
        text = str(code or "")
        return text in self.HOLD_CODES or text.split("/")[0] in self.HOLD_CODES

    @on_turn_loop
    async def _post(self, body: Dict[str, Any], hold: bool = True) -> bool:
        try:
            result = await http.request("POST", self.url, classify_graph, platform="messenger",
                                        policy=self.policy, params={"access_token": self.page_token},
                                        json=body)
            return await self.settle(str(body.get("recipient", {}).get("id")), result, body.get("message"), hold)
        except Exception:
            logger.exception("messenger send crashed")
            return False

    async def send_message(self, recipient_id: str, message: Dict[str, Any], hold: bool = True) -> bool:
        """Send one message object as a RESPONSE (kept for the user's next message on a HOLD_CODES refusal,
        unless ``hold`` is False); never raises."""
        return await self._post({"recipient": {"id": str(recipient_id)}, "messaging_type": "RESPONSE",
                                 "message": message}, hold=hold)

    @on_turn_loop
    async def sender_action(self, recipient_id: str, action: str = "typing_on") -> bool:
        """mark_seen / typing_on / typing_off (failures are not worth a retry storm: one attempt)."""
        body = {"recipient": {"id": str(recipient_id)}, "sender_action": action}
        try:
            result = await http.request("POST", self.url, classify_graph, platform="messenger",
                                        policy=RetryPolicy(max_attempts=1, timeout=self.policy.timeout),
                                        params={"access_token": self.page_token}, json=body)
            return result.ok
        except Exception:
            return False

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Show the typing indicator, then send the bot's message."""
        await self.sender_action(recipient_id, "typing_on")
        await super().send_response(recipient_id, message)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[str, Any]],
                                     **kwargs: Any) -> None:
        """Button template for 1-3 buttons and short text, else quick replies (13 per message)."""
        buttons = list(buttons or [])
        if not buttons:
            await self.send_text_message(recipient_id, text)
            return
        if len(buttons) <= MAX_TEMPLATE_BUTTONS and 0 < len(text or "") <= MAX_TEMPLATE_TEXT:
            fb_buttons = []
            for b in buttons:
                url = _button_url(b)
                if url:
                    title = short_title(b.get("title") or url)
                    fb_buttons.append({"type": "web_url", "url": url, "title": title})
                else:
                    fb_buttons.append({"type": "postback", "title": short_title(b.get("title")),
                                       "payload": _payload(b)})
            await self.send_message(recipient_id, {"attachment": {"type": "template", "payload": {
                "template_type": "button", "text": text, "buttons": fb_buttons}}})
            return
        await self.send_quick_replies(recipient_id, text, buttons)

    async def send_quick_replies(self, recipient_id: Text, text: Text, quick_replies: List[Dict[str, Any]],
                                 **kwargs: Any) -> None:
        """Quick replies, 13 per message; link buttons become text lines (quick replies cannot open URLs)."""
        links = [b for b in quick_replies or [] if _button_url(b)]
        choices = [b for b in quick_replies or [] if not _button_url(b)]
        parts = split_text(text) or [MORE_OPTIONS]
        for part in parts[:-1]:
            await self.send_message(recipient_id, {"text": part})
        lines = "\n".join(f"{b.get('title') or ''}: {_button_url(b)}".strip(": ") for b in links)
        if not choices:
            await self.send_text_message(recipient_id, parts[-1] + ("\n" + lines if lines else ""))
            return
        if lines:
            # Before the quick replies: Messenger hides quick replies once another message follows.
            await self.send_text_message(recipient_id, lines)
        for i in range(0, len(choices), MAX_QUICK_REPLIES):
            chunk = choices[i:i + MAX_QUICK_REPLIES]
            await self.send_message(recipient_id, {
                "text": parts[-1] if i == 0 else MORE_OPTIONS,
                "quick_replies": [{"content_type": "text", "payload": _payload(b),
                                   "title": short_title(b.get("title") or b.get("payload"))} for b in chunk],
            })

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """An image by URL."""
        payload = {"url": image, "is_reusable": True}
        await self.send_message(recipient_id, {"attachment": {"type": "image", "payload": payload}})

    async def send_attachment(self, recipient_id: Text, attachment: Any, **kwargs: Any) -> None:
        """A Messenger attachment object, or its text when given a string."""
        if isinstance(attachment, dict):
            await self.send_message(recipient_id, {"attachment": attachment})
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: Text, elements: Any, **kwargs: Any) -> None:
        """Generic template (up to 10 elements per message)."""
        elements = list(elements or [])
        for i in range(0, len(elements), 10):
            await self.send_message(recipient_id, {"attachment": {"type": "template", "payload": {
                "template_type": "generic", "elements": elements[i:i + 10]}}})

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[str, Any], **kwargs: Any) -> None:
        """A raw Send API body (recipient filled in), a bare message object, or a neutral notification."""
        if not isinstance(json_message, dict):
            return
        if json_message.get("notification") == "confirmed_event_update":
            # An update about an event the citizen booked: Meta allows it outside the 24-hour window with this tag.
            for part in split_text(str(json_message.get("text") or "")):
                await self._post({"recipient": {"id": str(recipient_id)}, "messaging_type": "MESSAGE_TAG",
                                  "tag": "CONFIRMED_EVENT_UPDATE", "message": {"text": part}})
            return
        if "message" in json_message or "sender_action" in json_message:
            body = dict(json_message)
            body.setdefault("recipient", {"id": str(recipient_id)})
            if "message" in body:
                body.setdefault("messaging_type", "RESPONSE")
            await self._post(body)
        else:
            await self.send_message(recipient_id, json_message)


def parse_item(item: Dict[str, Any]) -> Optional[Incoming]:
    """One messaging item as a citizen event; None for echoes, delivery and read receipts, reactions, optins."""
    sender_id = str((item.get("sender") or {}).get("id") or "")
    message = item.get("message") if isinstance(item.get("message"), dict) else None
    postback = item.get("postback") if isinstance(item.get("postback"), dict) else None
    if not sender_id or (message is None and postback is None):
        return None
    if message is not None and message.get("is_echo"):
        return None
    event = message if message is not None else postback
    mid = str(event.get("mid") or "")
    if not mid and postback is not None:
        mid = f"pb:{sender_id}:{item.get('timestamp')}:{postback.get('payload')}"
    incoming = Incoming(sender_id, mid, metadata={"platform": "messenger", "mid": mid})
    if postback is not None:
        incoming.text = str(postback.get("payload") or postback.get("title") or "")
        return incoming
    assert message is not None
    quick = message.get("quick_reply") if isinstance(message.get("quick_reply"), dict) else None
    if quick and quick.get("payload"):
        incoming.text = str(quick["payload"])
        return incoming
    incoming.text = str(message.get("text") or "").strip()
    if incoming.text:
        return incoming
    attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    for att in attachments:
        if att.get("type") == "location":
            coords = (att.get("payload") or {}).get("coordinates") or {}
            found = parse_coordinates(coords.get("lat"), coords.get("long", coords.get("lon")))
            if found:  # the bot answers with the nearest office, or takes it as the office of a booking
                incoming.text = location_payload(*found)
                return incoming
    if message.get("sticker_id") or any((a.get("payload") or {}).get("sticker_id") for a in attachments):
        incoming.reply_kind = "sticker"
    elif attachments:
        incoming.reply_kind = str(attachments[0].get("type") or "fallback")
    return incoming


class MessengerInput(PlatformInput):
    """Messenger webhook (GET verification and POST events at /webhooks/messenger/webhook)."""

    SETTINGS = (
        Setting("page_token", "page_access_token", "MESSENGER_PAGE_TOKEN"),
        Setting("app_secret", "app_secret", "MESSENGER_APP_SECRET"),
        Setting("verify_token", "verify_token", "MESSENGER_VERIFY_TOKEN"),
        Setting("graph_base", "graph_base", "MESSENGER_GRAPH_BASE", "https://graph.facebook.com"),
        Setting("graph_version", "graph_version", "MESSENGER_GRAPH_VERSION", "v21.0"),
        REDIS_SETTING,
    )
    REQUIRED = required(SETTINGS)
    ACK = "EVENT_RECEIVED"

    @classmethod
    def name(cls) -> Text:
        """Channel name (also the URL prefix /webhooks/messenger)."""
        return "messenger"

    def __init__(self, page_token: str, app_secret: str, verify_token: str,
                 graph_base: str = "https://graph.facebook.com", graph_version: str = "v21.0",
                 redis_url: str = "", policy: Optional[RetryPolicy] = None) -> None:
        super().__init__(MessengerOutput(page_token, graph_base, graph_version, policy,
                                         HeldMessages("messenger", redis_url=redis_url)), redis_url)
        self.app_secret = app_secret
        self.verify_token = verify_token

    def add_routes(self, bp: Blueprint) -> None:
        """GET /webhook: Meta's verification handshake (the challenge echoed when mode and token match)."""

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode")
            token = request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and self.verify_token and hmac.compare_digest(
                    token.encode("utf-8"), self.verify_token.encode("utf-8")):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

    def read_delivery(self, raw: bytes, headers: Mapping[str, str]) -> Any:
        """The delivery, once X-Hub-Signature-256 matches the raw body."""
        if not verify_messenger_signature(headers.get("X-Hub-Signature-256"), self.app_secret, raw):
            raise Rejected(403, "forbidden")
        try:
            return json.loads(raw)
        except ValueError:
            raise Rejected(400, "bad request") from None

    async def handle_delivery(self, body: Any, on_new_message: OnNewMessage, lock_store: Any = None) -> None:
        """Dedupe and queue every messaging item of every entry; returns before any bot turn runs.

        With the cluster's lock store, each turn's place in its conversation is reserved here, on arrival, so one
        citizen's messages are answered in the order sent even when they reach different servers.
        """
        if not isinstance(body, dict):
            return
        for entry in body.get("entry") or []:
            if not isinstance(entry, dict):
                continue
            if "standby" in entry or "changes" in entry:
                logger.info("messenger: %d standby/changes item(s) skipped",
                            len(entry.get("standby") or []) + len(entry.get("changes") or []))
            for item in entry.get("messaging") or []:
                incoming = parse_item(item) if isinstance(item, dict) else None
                if incoming is not None:
                    await self.accept(incoming, on_new_message, lock_store)
