"""Building rasa_sdk trackers for action tests."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker


def make_tracker(text: str = "", intent: str = "ask_procedure", entities: Optional[List[Dict[str, Any]]] = None,
                 slots: Optional[Dict[str, Any]] = None, sender_id: str = "citizen-1",
                 active_loop: Optional[str] = None, channel: str = "rest") -> Tracker:
    """A tracker whose latest message is ``text`` with ``intent`` and ``entities``."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
    return Tracker(sender_id=sender_id, slots=dict(slots or {}), latest_message=latest, events=events,
                   paused=False, followup_action=None, active_loop={"name": active_loop} if active_loop else {},
                   latest_action_name="action_listen")


def entity(name: str, value: str, start: int = 0, extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """An entity dict as the NLU pipeline produces it."""
    ent = {"entity": name, "value": value, "start": start, "end": start + len(value)}
    ent.update(extra or {})
    return ent
