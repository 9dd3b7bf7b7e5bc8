"""The statistics record of conversation events: what the dashboard counts, nothing a citizen wrote.

One row per citizen message (``user``), per action the bot ran (``action``) and per procedure/aspect slot set
(``slot``). Rows are built from Rasa's published event dicts by :func:`rows_from_event` (a pure function) and
written in batches by :func:`write_rows`; the broker calls both off the conversation's path.
"""
from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from infra import db
from infra.masking import user_ref

USER, ACTION, SLOT = "user", "action", "slot"
STAT_SLOTS = ("procedure_key", "aspect")
# Bookkeeping actions Rasa runs on every turn: counting them would only say how many turns there were.
SKIPPED_ACTIONS = frozenset({"action_listen", "action_session_start", "action_extract_slots"})

metadata = sa.MetaData()
stats_events = sa.Table(
    "stats_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime(timezone=True), nullable=False, index=True),   # UTC
    sa.Column("user_ref", sa.String(16), nullable=False),                      # infra.masking.user_ref, never the id
    sa.Column("channel", sa.String(32), nullable=True),
    sa.Column("kind", sa.String(8), nullable=False),                           # user | action | slot
    sa.Column("intent", sa.String(128), nullable=True),
    sa.Column("action", sa.String(128), nullable=True),     # the action run, or (slot rows) the one that set it
    sa.Column("procedure_key", sa.String(128), nullable=True),
    sa.Column("aspect", sa.String(32), nullable=True),
)


def engine(url: Optional[str] = None) -> Engine:
    """The application's database (DATABASE_URL or the SQLite default) with the statistics table created."""
    return db.engine_with(metadata, url or db.database_url())


class SenderState:
    """What the broker remembers per conversation between events (its channel, the last action), bounded.

    Rasa publishes a turn's events in order (the user message, each action, then the slots that action set), so
    the channel of a slot row and the action that set it are known from the events just before it.
    """

    def __init__(self, max_senders: int = 10000):
        self.max_senders = max_senders
        self._state: "OrderedDict[str, Dict[str, Optional[str]]]" = OrderedDict()

    def get(self, ref: str) -> Dict[str, Optional[str]]:
        """The state of one sender (created empty), most recently used last; the oldest forgotten past the bound."""
        state = self._state.pop(ref, None) or {"channel": None, "action": None}
        self._state[ref] = state
        while len(self._state) > self.max_senders:
            self._state.popitem(last=False)
        return state

    def __len__(self) -> int:
        return len(self._state)


def _ts(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.now(dt.timezone.utc)


def _short(value: Any, size: int) -> Optional[str]:
    return None if value is None or value == "" else str(value)[:size]


def rows_from_event(event: Dict[str, Any], senders: SenderState) -> List[Dict[str, Any]]:
    """The statistics rows of one published Rasa event (none for events the dashboard does not count)."""
    kind = event.get("event")
    sender = event.get("sender_id")
    if sender is None or kind not in ("user", "action", "slot"):
        return []
    ref = user_ref(sender)
    state = senders.get(ref)
    base = {"ts": _ts(event.get("timestamp")), "user_ref": ref, "intent": None, "action": None,
            "procedure_key": None, "aspect": None}
    if kind == "user":
        state["channel"] = _short(event.get("input_channel"), 32) or state["channel"]
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        return [{**base, "channel": state["channel"], "kind": USER, "intent": _short(intent, 128)}]
    if kind == "action":
        name = _short(event.get("name"), 128)
        if name is None or name in SKIPPED_ACTIONS:
            return []
        state["action"] = name
        return [{**base, "channel": state["channel"], "kind": ACTION, "action": name}]
    name, value = event.get("name"), event.get("value")
    if name not in STAT_SLOTS or value in (None, "") or not isinstance(value, str):
        return []
    return [{**base, "channel": state["channel"], "kind": SLOT, "action": state["action"],
             name: value[:128 if name == "procedure_key" else 32]}]


def write_rows(rows: Iterable[Dict[str, Any]], url: Optional[str] = None) -> int:
    """Insert a batch of rows in one transaction; returns how many."""
    batch = list(rows)
    if batch:
        with engine(url).begin() as conn:
            conn.execute(stats_events.insert(), batch)
    return len(batch)
