"""Tracker stores that never keep raw ID numbers, phone numbers or proof digits in the conversations they store.

Rasa saves a conversation at the end of each turn; by then the actions of that turn have read what they needed
(the booking phone is in its slot, the proof digits were checked and turned into a result). What is written to the
store is masked: user messages and bot messages with phones and ID numbers masked (infra.masking), the values of
phone and ID-number entities masked, and every digit of an answer given while the bot asked for the proof digits
replaced by ``*``. The tracker object the running turn holds is not changed.

    tracker_store:
      type: privacy.tracker_store.MaskingRedisTrackerStore      (bot/endpoints.cluster.yml)
      type: privacy.tracker_store.MaskingInMemoryTrackerStore   (bot/endpoints.yml)

Redis keys expire TRACKER_RETENTION_DAYS (90 by default) after a conversation's last turn (Rasa's ``record_exp``),
which is the retention period of conversations (docs/security.md).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Text

from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from infra.masking import mask_digits, mask_text

PERSONAL_ENTITIES = {"phone", "id_number"}
# While one of these slots is asked, the whole answer is a secret (it matches no phone or ID pattern).
SECRET_SLOTS = {"proof_last4"}
DEFAULT_RETENTION_DAYS = 90


def retention_seconds(env: Optional[Dict[str, str]] = None) -> Optional[int]:
    """TRACKER_RETENTION_DAYS in seconds (0 or negative: keep forever, which the law does not allow)."""
    env = os.environ if env is None else env
    days = float(env.get("TRACKER_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS)
    return int(days * 86400) if days > 0 else None


def _mask_parse_data(parse: Dict[str, Any], secret: bool) -> None:
    mask = mask_digits if secret else mask_text
    if isinstance(parse.get("text"), str):
        parse["text"] = mask(parse["text"])
    for ent in parse.get("entities") or []:
        if isinstance(ent, dict) and (secret or ent.get("entity") in PERSONAL_ENTITIES):
            ent["value"] = mask_digits(str(ent.get("value") or "")) if secret else mask_text(str(ent.get("value")))


def mask_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The events with personal data masked in user and bot messages (changes and returns the dicts)."""
    requested: Optional[str] = None
    for event in events:
        kind = event.get("event")
        if kind == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        elif kind == "active_loop" and not event.get("name"):
            requested = None
        elif kind == "user":
            secret = requested in SECRET_SLOTS
            if isinstance(event.get("text"), str):
                event["text"] = mask_digits(event["text"]) if secret else mask_text(event["text"])
            if isinstance(event.get("parse_data"), dict):
                _mask_parse_data(event["parse_data"], secret)
        elif kind == "bot" and isinstance(event.get("text"), str):
            event["text"] = mask_text(event["text"])
    return events


def masked_serialisation(tracker: DialogueStateTracker) -> Text:
    """What Rasa's text serialisation stores, with :func:`mask_events` applied."""
    dialogue = tracker.as_dialogue().as_dict()
    mask_events(dialogue.get("events") or [])
    return json.dumps(dialogue)


class MaskingInMemoryTrackerStore(InMemoryTrackerStore):
    """Rasa's in-memory store, masked (``make run``)."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the masked conversation."""
        await self.stream_events(tracker)
        self.store[tracker.sender_id] = masked_serialisation(tracker)

    async def delete(self, sender_id: Text) -> bool:
        """Erase one conversation (privacy.erase)."""
        return self.store.pop(sender_id, None) is not None


class MaskingRedisTrackerStore(RedisTrackerStore):
    """Rasa's Redis store, masked, each conversation expiring TRACKER_RETENTION_DAYS after its last turn."""

    def __init__(self, *args: Any, record_exp: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(*args, record_exp=record_exp or retention_seconds(), **kwargs)

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> Text:
        """Masked serialisation (RedisTrackerStore.save calls ``self.serialise_tracker``)."""
        return masked_serialisation(tracker)
