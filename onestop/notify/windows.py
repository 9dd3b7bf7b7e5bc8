"""The platforms' messaging windows: how long after a citizen's last message we may still write to them.

Messenger: 24 h (outside it only message tags). Zalo OA: free for 48 h, billable up to 7 days, rejected after;
outside it only ZNS (a template message to a phone number). Other channels (REST, the console's try page) have
no window.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

MESSENGER_WINDOW = dt.timedelta(hours=24)
ZALO_WINDOW = dt.timedelta(days=7)
ZALO_FREE_WINDOW = dt.timedelta(hours=48)
# Send a little before the platform's limit: the message still has to travel through Rasa and the connector.
WINDOW_MARGIN = dt.timedelta(minutes=5)

_CHANNEL_KIND = {
    "facebook": "messenger",
    "messenger": "messenger",
    "fb": "messenger",
    "zalo": "zalo",
    "zalo_oa": "zalo",
    "zalooa": "zalo",
}


def channel_kind(channel: Optional[str]) -> Optional[str]:
    """"messenger", "zalo", or None for channels without a messaging window."""
    return _CHANNEL_KIND.get((channel or "").strip().lower())


def messaging_window(channel: str, *, zalo_free_only: bool = False) -> Optional[dt.timedelta]:
    """How long after the user's last message the platform lets us write; None means no limit."""
    kind = channel_kind(channel)
    if kind == "messenger":
        return MESSENGER_WINDOW
    if kind == "zalo":
        return ZALO_FREE_WINDOW if zalo_free_only else ZALO_WINDOW
    return None


def within_window(
    channel: str, last_user_message_at: dt.datetime, now: dt.datetime, *, zalo_free_only: bool = False
) -> bool:
    """True when a message to a user of ``channel`` sent ``now`` is inside the platform's window."""
    window = messaging_window(channel, zalo_free_only=zalo_free_only)
    if window is None:
        return True
    return now - last_user_message_at <= window - WINDOW_MARGIN
