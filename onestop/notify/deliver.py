"""Which way a message outside a conversation goes, sent once, and recorded in the notifications table.

    inside the platform's window                 -> chat: the caller's chat path (Rasa trigger_intent)
    Messenger, outside 24 h, purpose has a tag   -> tag: the same chat path, the channel adds the message tag
    Zalo, outside the window, consent + phone    -> zns: a template message to the consented phone
    anything else (no consent, no template, ...) -> none: nothing sent, recorded as skipped with the reason

The caller keeps its own state (a booking's reminder status, a subscription's pending change); this module
adds the one dedupe that spans both (records.claim) and the ZNS route.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional

from infra.db import run_sync
from infra.masking import user_ref
from onestop.notify import consent, records
from onestop.notify.records import FAILED, RETRY_PREFIX, ROUTE_CHAT, ROUTE_NONE, ROUTE_TAG, ROUTE_ZNS, SENT, SKIPPED
from onestop.notify.templates import (
    TemplateDataMissing,
    TemplateNotRegistered,
    TemplateRegistry,
    load_registry,
)
from onestop.notify.windows import channel_kind, within_window
from onestop.notify.zns import ZnsClient

log = logging.getLogger(__name__)

DUPLICATE = "duplicate"
# Meta allows these tags outside the 24 h window. Dossier updates would be ACCOUNT_UPDATE, but the Messenger
# channel only knows how to send the appointment notification with its tag (connectors.messenger).
MESSENGER_TAGS: Dict[str, str] = {consent.APPOINTMENT_REMINDER: "CONFIRMED_EVENT_UPDATE"}


@dataclass
class Notification:
    """One event to tell one citizen."""

    dedupe_key: str                       # the same event always gives the same key (max 200 characters)
    purpose: str                          # consent.PURPOSES
    sender_id: str
    channel: str
    last_user_message_at: dt.datetime
    fields: Mapping[str, Any] = field(default_factory=dict)  # templates.FIELDS[purpose]
    office_id: Optional[str] = None


@dataclass
class ChatResult:
    """How the chat path went: ``error`` None on success; ``retryable`` when it surely did not deliver."""

    error: Optional[str] = None
    retryable: bool = False


# Called with the Messenger tag (None inside the window); the chat path must not raise.
ChatSend = Callable[[Optional[str]], Awaitable[ChatResult]]


@dataclass
class Delivery:
    """The decision and its result."""

    route: str                  # chat | zns | tag | none
    status: str                 # sent | failed | skipped | duplicate
    detail: Optional[str] = None
    tag: Optional[str] = None   # the Messenger tag on route tag
    retryable: bool = False     # failed, surely not delivered: the caller may try again later
    previous: Optional[str] = None  # for a duplicate: the recorded status of the first attempt

    @property
    def sent(self) -> bool:
        """True when the message went out."""
        return self.status == SENT


def tracking_id(dedupe_key: str) -> str:
    """A short stable id for ZNS's tracking_id (the dedupe key may hold codes we do not send to Zalo)."""
    return hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:32]


class Deliverer:
    """Decides the route of each notification, sends it once, and records the outcome."""

    def __init__(self, *, zns: Optional[ZnsClient] = None, templates: Optional[TemplateRegistry] = None,
                 url: Optional[str] = None, zalo_free_only: bool = False) -> None:
        self.zns = zns
        self.templates = templates or TemplateRegistry()
        self.url = url  # database of the notifications and consents (None: the application's)
        self.zalo_free_only = zalo_free_only

    @classmethod
    def from_env(cls, url: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> "Deliverer":
        """ZNS from ZNS_ENABLED / ZNS_API_URL / the token variables, templates from ZNS_TEMPLATES_PATH (a broken
        registry file raises TemplateConfigError here, at start-up), NOTIFY_ZALO_FREE_ONLY."""
        env = dict(os.environ if env is None else env)
        zns = ZnsClient.from_env(env)
        templates = load_registry(env=env) if zns is not None else None
        return cls(zns=zns, templates=templates, url=url,
                   zalo_free_only=(env.get("NOTIFY_ZALO_FREE_ONLY") or "").lower() in ("1", "true", "yes"))

    async def deliver(self, n: Notification, chat: ChatSend, now: dt.datetime) -> Delivery:
        """Send ``n`` by the first route that may carry it; a key already handled is never sent again."""
        claimed = await run_sync(lambda: records.claim(
            n.dedupe_key, n.purpose, sender_ref=user_ref(n.sender_id), channel=n.channel,
            office_id=n.office_id, now=now, url=self.url))
        if not claimed:
            row = await run_sync(records.get, n.dedupe_key, self.url)
            return Delivery((row or {}).get("route") or ROUTE_NONE, DUPLICATE, previous=(row or {}).get("status"))
        kind = channel_kind(n.channel)
        if within_window(n.channel, n.last_user_message_at, now, zalo_free_only=self.zalo_free_only):
            delivery = await self._chat(chat, ROUTE_CHAT, None)
        elif kind == "messenger" and n.purpose in MESSENGER_TAGS:
            delivery = await self._chat(chat, ROUTE_TAG, MESSENGER_TAGS[n.purpose])
        elif kind == "messenger":
            delivery = Delivery(ROUTE_NONE, SKIPPED, "outside_window: no Messenger tag for this purpose")
        else:
            delivery = await self._zns(n)
        template = self._template_id(n.purpose) if delivery.route == ROUTE_ZNS else None
        detail = delivery.detail
        if delivery.status == FAILED and delivery.retryable:
            detail = f"{RETRY_PREFIX} {detail or ''}".strip()
        await run_sync(lambda: records.finish(n.dedupe_key, delivery.route, delivery.status, detail, template,
                                              now=now, url=self.url))
        if delivery.status == FAILED:
            log.warning("%s for %s via %s failed: %s", n.purpose, user_ref(n.sender_id), delivery.route, detail)
        else:
            log.info("%s for %s: %s via %s%s", n.purpose, user_ref(n.sender_id), delivery.status, delivery.route,
                     f" ({delivery.detail})" if delivery.status == SKIPPED else "")
        return delivery

    def _template_id(self, purpose: str) -> Optional[str]:
        try:
            return self.templates.get(purpose).template_id
        except TemplateNotRegistered:
            return None

    async def _chat(self, chat: ChatSend, route: str, tag: Optional[str]) -> Delivery:
        result = await chat(tag)
        if result.error is None:
            return Delivery(route, SENT, tag=tag)
        return Delivery(route, FAILED, result.error, tag=tag, retryable=result.retryable)

    async def _zns(self, n: Notification) -> Delivery:
        if channel_kind(n.channel) != "zalo":
            return Delivery(ROUTE_NONE, SKIPPED, "outside_window")
        if self.zns is None:
            return Delivery(ROUTE_NONE, SKIPPED, "outside_window: ZNS not configured")
        given = await run_sync(consent.get_consent, n.sender_id, n.purpose, self.url)
        if given is None:
            return Delivery(ROUTE_NONE, SKIPPED, "outside_window: no ZNS consent")
        if not given.active:
            return Delivery(ROUTE_NONE, SKIPPED, "outside_window: ZNS consent withdrawn")
        if not given.phone:
            return Delivery(ROUTE_NONE, SKIPPED, "outside_window: no phone")
        try:
            template = self.templates.get(n.purpose)
            data = template.render(n.fields)
        except TemplateNotRegistered as exc:
            return Delivery(ROUTE_NONE, SKIPPED, f"template_not_registered: {exc}")
        except TemplateDataMissing as exc:
            return Delivery(ROUTE_NONE, SKIPPED, f"template_data_missing: {exc}")
        result = await self.zns.send(given.phone, template.template_id, data, tracking_id(n.dedupe_key))
        if result.ok:
            return Delivery(ROUTE_ZNS, SENT, result.detail)
        return Delivery(ROUTE_ZNS, FAILED, result.detail)

    async def close(self) -> None:
        """Close the ZNS client's HTTP session."""
        if self.zns is not None:
            await self.zns.close()
