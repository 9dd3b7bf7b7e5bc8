"""Facebook Messenger channel for Rasa (named "messenger", independent of Rasa's "facebook" channel).

Webhook: GET/POST /webhooks/messenger/webhook. POSTs are verified with X-Hub-Signature-256 (constant time),
answered 200 at once, de-duplicated on ``mid`` and processed in a per-user ordered background queue. Every
entry and every messaging item is handled; ``standby``/``changes`` entries are logged and skipped.
"""
from __future__ import annotations

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
from connectors.security import verify_messenger_signature
from connectors.stores import DedupeStore, HeldMessages
from connectors.textsplit import split_text
from connectors.faults import bot_turn, note_sent
from connectors.intake import accept_event
from connectors.turns import TURNS, attach_turns, on_turn_loop
from connectors.userqueue import UserQueue

logger = logging.getLogger(__name__)

MAX_TEMPLATE_BUTTONS = 3
MAX_TEMPLATE_TEXT = 640
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000
RATE_LIMIT_CODES = {4, 613, 32, 17}
# Final refusals about the user rather than the message: 551 person unavailable (any subcode), 10/2018278
# outside the 24 h window. The message is kept and sent at the user's next message instead.
HOLD_CODES = {"551", "10/2018278"}
TEMPORARY_CODES = {1, 2}

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


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


class MessengerOutput(OutputChannel):
    """Sends answers through the Graph Send API with typing indicators, splitting and retries."""

    @classmethod
    def name(cls) -> Text:
        """Channel name."""
        return "messenger"

    def __init__(self, page_token: str, graph_base: str = "https://graph.facebook.com",
                 graph_version: str = "v21.0", policy: Optional[http.RetryPolicy] = None,
                 held: Optional[HeldMessages] = None) -> None:
        self.page_token = page_token
        self.held = held or HeldMessages("messenger")
        self.url = f"{graph_base.rstrip('/')}/{graph_version.strip('/')}/me/messages"
        self.policy = policy or http.env_policy(dict(os.environ))
        self.failures: List[Dict[str, Any]] = []

    @on_turn_loop
    async def _post(self, body: Dict[str, Any], hold: bool = True) -> bool:
        try:
            result = await http.request("POST", self.url, classify_graph, platform="messenger",
                                        policy=self.policy, params={"access_token": self.page_token},
                                        json=body)
            if result.ok and "message" in body:
                registry().messages_out.labels(channel="messenger").inc()
                note_sent()
            if not result.ok:
                user = str(body.get("recipient", {}).get("id"))
                registry().send_failures.labels(channel="messenger", code=str(result.code or "unknown")).inc()
                http.record_failure("messenger", result.code, result.body)
                self.failures.append({"user": user, "code": result.code, "attempts": result.attempts})
                del self.failures[:-100]
                code = str(result.code or "")
                if hold and "message" in body and (code in HOLD_CODES or code.split("/")[0] in HOLD_CODES):
                    await self.held.add(user, body["message"])
            return result.ok
        except Exception:
            logger.exception("messenger send crashed")
            return False

    async def send_message(self, recipient_id: str, message: Dict[str, Any], hold: bool = True) -> bool:
        """Send one message object as a RESPONSE (kept for the user's next message on a HOLD_CODES refusal,
        unless ``hold`` is False); never raises."""
        return await self._post({"recipient": {"id": str(recipient_id)}, "messaging_type": "RESPONSE",
                                 "message": message}, hold=hold)

    @on_turn_loop
    async def send_held(self, recipient_id: str) -> int:
        """Send the messages kept for the user once more (a second refusal is recorded, not kept)."""
        return await self.held.resend(str(recipient_id),
                                      lambda message: self.send_message(recipient_id, message, hold=False))

    @on_turn_loop
    async def sender_action(self, recipient_id: str, action: str = "typing_on") -> bool:
        """mark_seen / typing_on / typing_off (failures are not worth a retry storm: one attempt)."""
        body = {"recipient": {"id": str(recipient_id)}, "sender_action": action}
        try:
            result = await http.request("POST", self.url, classify_graph, platform="messenger",
                                        policy=http.RetryPolicy(max_attempts=1, timeout=self.policy.timeout),
                                        params={"access_token": self.page_token}, json=body)
            return result.ok
        except Exception:
            return False

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Show the typing indicator, then send the bot's message."""
        await self.sender_action(recipient_id, "typing_on")
        await super().send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Send text, split into parts of at most 2,000 characters."""
        for part in split_text(text):
            await self.send_message(recipient_id, {"text": part})

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


class MessengerInput(InputChannel):
    """Messenger webhook (GET verification and POST events at /webhooks/messenger/webhook)."""

    REQUIRED = ("MESSENGER_PAGE_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_VERIFY_TOKEN")

    @classmethod
    def name(cls) -> Text:
        """Channel name (also the URL prefix /webhooks/messenger)."""
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "MessengerInput":
        """Build from credentials / environment; raises ConnectorConfigError when a secret is missing."""
        values = {
            "MESSENGER_PAGE_TOKEN": setting(credentials, "page_access_token", "MESSENGER_PAGE_TOKEN"),
            "MESSENGER_APP_SECRET": setting(credentials, "app_secret", "MESSENGER_APP_SECRET"),
            "MESSENGER_VERIFY_TOKEN": setting(credentials, "verify_token", "MESSENGER_VERIFY_TOKEN"),
        }
        require("messenger", values, cls.REQUIRED)
        return cls(
            page_token=values["MESSENGER_PAGE_TOKEN"], app_secret=values["MESSENGER_APP_SECRET"],
            verify_token=values["MESSENGER_VERIFY_TOKEN"],
            graph_base=setting(credentials, "graph_base", "MESSENGER_GRAPH_BASE",
                               "https://graph.facebook.com"),
            graph_version=setting(credentials, "graph_version", "MESSENGER_GRAPH_VERSION", "v21.0"),
            redis_url=setting(credentials, "redis_url", "REDIS_URL", ""),
        )

    def __init__(self, page_token: str, app_secret: str, verify_token: str,
                 graph_base: str = "https://graph.facebook.com", graph_version: str = "v21.0",
                 redis_url: str = "", policy: Optional[http.RetryPolicy] = None) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.output = MessengerOutput(page_token, graph_base, graph_version, policy,
                                      HeldMessages("messenger", redis_url=redis_url))
        self.dedupe = DedupeStore("messenger", redis_url=redis_url)
        self.queue = UserQueue(TURNS)

    def get_output_channel(self) -> OutputChannel:
        """The channel's output (for proactive messages)."""
        return self.output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Sanic routes: GET / (health), GET /webhook (verification), POST /webhook (events)."""
        bp = Blueprint("messenger_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            import hmac

            mode = request.args.get("hub.mode")
            token = request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and self.verify_token and hmac.compare_digest(
                    token.encode("utf-8"), self.verify_token.encode("utf-8")):
                return response.text(request.args.get("hub.challenge") or "")
            return response.text("forbidden", status=403)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            raw = request.body or b""
            signature = request.headers.get("X-Hub-Signature-256")
            if not verify_messenger_signature(signature, self.app_secret, raw):
                logger.warning("messenger webhook: missing or wrong signature, delivery ignored")
                return response.text("forbidden", status=403)
            try:
                body = json.loads(raw)
            except ValueError:
                return response.text("bad request", status=400)
            try:
                agent = getattr(request.app.ctx, "agent", None)
                await self.handle_delivery(body, on_new_message, getattr(agent, "lock_store", None))
            except Exception as exc:
                logger.exception("messenger webhook: delivery could not be handled")
                if is_transient(exc):
                    # Not acknowledged, so Meta delivers it again; items already queued are de-duplicated then.
                    return response.text("temporarily unavailable", status=503)
            return response.text("EVENT_RECEIVED")

        attach_turns(bp, self)
        return bp

    async def aclose(self) -> None:
        """Release shared resources (Redis pools, the HTTP session) at shutdown."""
        await TURNS.run(self.output.held.aclose())  # opened on the turn loop
        await self.dedupe.aclose()
        await http.close_session()

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
                if isinstance(item, dict):
                    await self._handle_item(item, on_new_message, lock_store)

    async def _handle_item(self, item: Dict[str, Any], on_new_message: OnNewMessage, lock_store: Any = None) -> None:
        sender_id = str((item.get("sender") or {}).get("id") or "")
        message = item.get("message") if isinstance(item.get("message"), dict) else None
        postback = item.get("postback") if isinstance(item.get("postback"), dict) else None
        if not sender_id or (message is None and postback is None):
            return  # delivery, read, reactions, optins...: nothing to answer
        if message is not None and message.get("is_echo"):
            return
        event = message if message is not None else postback
        mid = str(event.get("mid") or "")
        if not mid and postback is not None:
            mid = f"pb:{sender_id}:{item.get('timestamp')}:{postback.get('payload')}"
        await accept_event("messenger", sender_id, mid, dedupe=self.dedupe, queue=self.queue, output=self.output,
                           lock_store=lock_store,
                           process=lambda: self._process(on_new_message, sender_id, message, postback, mid))

    async def _process(self, on_new_message: OnNewMessage, sender_id: str, message: Optional[Dict[str, Any]],
                       postback: Optional[Dict[str, Any]], mid: str) -> None:
        await self.output.send_held(sender_id)  # the user is back: what could not be sent before goes first
        if postback is not None:
            text = str(postback.get("payload") or postback.get("title") or "")
            if text:
                await self._to_bot(on_new_message, text, sender_id, mid)
            return
        assert message is not None
        quick = message.get("quick_reply") if isinstance(message.get("quick_reply"), dict) else None
        if quick and quick.get("payload"):
            await self._to_bot(on_new_message, str(quick["payload"]), sender_id, mid)
            return
        text = str(message.get("text") or "").strip()
        if text:
            await self._to_bot(on_new_message, text, sender_id, mid)
            return
        attachments = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
        for att in attachments:
            if att.get("type") == "location":
                coords = (att.get("payload") or {}).get("coordinates") or {}
                found = parse_coordinates(coords.get("lat"), coords.get("long", coords.get("lon")))
                if found:  # the bot answers with the nearest office, or takes it as the office of a booking
                    await self._to_bot(on_new_message, location_payload(*found), sender_id, mid)
                    return
        kind = "fallback"
        if message.get("sticker_id") or any((a.get("payload") or {}).get("sticker_id") for a in attachments):
            kind = "sticker"
        elif attachments:
            kind = str(attachments[0].get("type") or "fallback")
        if attachments or kind == "sticker":
            await self.output.send_text_message(sender_id, text_only_reply(kind))

    async def _to_bot(self, on_new_message: OnNewMessage, text: str, sender_id: str, mid: str) -> None:
        logger.debug("messenger user %s: %s", short_id(sender_id), mask(text))
        await bot_turn(on_new_message, self.output, lambda output: UserMessage(
            text, output, sender_id, input_channel=self.name(), metadata={"platform": "messenger", "mid": mid}))
