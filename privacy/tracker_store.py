"""Tracker stores that never keep raw ID numbers, phone numbers or proof digits in the conversations they store.

Rasa saves a conversation at the end of each turn; by then the actions of that turn have read what they needed
(the booking phone is in its slot, the proof digits were checked and turned into a result). What is written to the
store is masked: user messages and bot messages with phones and ID numbers masked (infra.masking), the values of
phone and ID-number entities masked, and every digit of an answer given while the bot asked for the proof digits
replaced by ``*``. The tracker object the running turn holds is not changed.

    tracker_store:
      type: privacy.tracker_store.MaskingRedisTrackerStore      (bot/endpoints.cluster.yml)
      type: privacy.tracker_store.MaskingInMemoryTrackerStore   (bot/endpoints.yml)

With an event broker configured (the dashboard's statistics, cluster.stats_broker), Rasa's ``stream_events`` would
rebuild the stored conversation on every save only to count its events; both stores count them in the stored JSON
instead (:func:`stored_session_length`), which publishes the same events for a fraction of the cost.

Redis keys expire TRACKER_RETENTION_DAYS (90 by default) after a conversation's last turn (Rasa's ``record_exp``),
which is the retention period of conversations (docs/security.md).
"""
from __future__ import annotations

import itertools
import json
import os
from typing import Any, Dict, List, Optional, Text, Union

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


def stored_session_length(serialised: Union[str, bytes, None]) -> int:
    """How many events Rasa's ``retrieve`` gives back for a stored conversation: those of its last session (from
    its last ``action_session_start``, as rasa.shared.core.trackers.get_trackers_for_conversation_sessions), or
    all of them."""
    if serialised is None:
        return 0
    events = json.loads(serialised).get("events") or []
    starts = [i for i, e in enumerate(events) if e.get("event") == "action" and e.get("name") == "action_session_start"]
    return len(events) - starts[-1] if starts else len(events)


class _CountingStreams:
    """``stream_events`` that finds the new events by counting the stored ones, not by rebuilding the tracker."""

    event_broker: Any

    def _stored(self, sender_id: Text) -> Union[str, bytes, None]:
        raise NotImplementedError

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Publish the events of ``tracker`` that the stored conversation does not have yet."""
        if self.event_broker is None:
            return
        try:
            offset = stored_session_length(self._stored(tracker.sender_id))
        except (ValueError, TypeError, AttributeError):  # not our JSON: Rasa's own way
            await super().stream_events(tracker)  # type: ignore[misc]
            return
        new = list(itertools.islice(tracker.events, offset, len(tracker.events)))
        await self._stream_new_events(self.event_broker, new, tracker.sender_id)  # type: ignore[attr-defined]


class MaskingInMemoryTrackerStore(_CountingStreams, InMemoryTrackerStore):
    """Rasa's in-memory store, masked (``make run``)."""

    def _stored(self, sender_id: Text) -> Union[str, bytes, None]:
        return self.store.get(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the masked conversation."""
        await self.stream_events(tracker)
        self.store[tracker.sender_id] = masked_serialisation(tracker)

    async def delete(self, sender_id: Text) -> bool:
        """Erase one conversation (privacy.erase)."""
        return self.store.pop(sender_id, None) is not None


class MaskingRedisTrackerStore(_CountingStreams, RedisTrackerStore):
    """Rasa's Redis store, masked, each conversation expiring TRACKER_RETENTION_DAYS after its last turn."""

    def _stored(self, sender_id: Text) -> Union[str, bytes, None]:
        return self.red.get(self.key_prefix + sender_id)   # the one read Rasa's retrieve makes too

    def __init__(self, *args: Any, record_exp: Optional[float] = None, **kwargs: Any) -> None:
        super().__init__(*args, record_exp=record_exp or retention_seconds(), **kwargs)

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> Text:
        """Masked serialisation (RedisTrackerStore.save calls ``self.serialise_tracker``)."""
        return masked_serialisation(tracker)
