"""Webhook signature checks for Zalo OA and Messenger, always compared in constant time."""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional, Union

Bytes = Union[bytes, bytearray]


def zalo_mac(app_id: str, raw_body: Bytes, timestamp: str, oa_secret: str) -> str:
    """Zalo's event MAC: plain SHA-256 hex of app_id + raw body + timestamp + OA secret key."""
    # Kept in this single function because community code disagrees on app_id vs oa_id (platforms.md).
    data = (app_id.encode("utf-8") + bytes(raw_body) + str(timestamp).encode("utf-8")
            + oa_secret.encode("utf-8"))
    return hashlib.sha256(data).hexdigest()


def verify_zalo_signature(
    header: Optional[str], app_id: str, raw_body: Bytes, timestamp: Optional[str], oa_secret: str
) -> bool:
    """True when the X-ZEvent-Signature header (with or without 'mac=') matches the body."""
    if not header or timestamp is None or not app_id or not oa_secret:
        return False
    value = header.strip()
    if value.lower().startswith("mac="):
        value = value[4:]
    expected = zalo_mac(app_id, raw_body, str(timestamp), oa_secret)
    return hmac.compare_digest(value.strip().lower().encode("ascii", "replace"), expected.encode("ascii"))


def messenger_signature(app_secret: str, raw_body: Bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends for ``raw_body``: 'sha256=<hex HMAC-SHA256>'."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).hexdigest()


def verify_messenger_signature(header: Optional[str], app_secret: str, raw_body: Bytes) -> bool:
    """True when the X-Hub-Signature-256 header matches the HMAC of the raw body."""
    if not header or not app_secret:
        return False
    expected = messenger_signature(app_secret, raw_body)
    return hmac.compare_digest(header.strip().lower().encode("ascii", "replace"), expected.encode("ascii"))
