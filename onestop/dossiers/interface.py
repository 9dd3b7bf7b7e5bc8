"""What every dossier source offers the bot: lookups by code and the feed of changes, or BackendUnavailable."""
from __future__ import annotations

import abc
import datetime as dt
from typing import Any, List, Optional

from onestop.dossiers.model import Dossier


class BackendUnavailable(Exception):
    """The dossier source cannot answer now (down, slow, refused our credentials, answered garbage)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = (
            reason  # timeout | server_error | connection | auth | bad_request | bad_response | database
        )
        self.detail = detail


class DossierBackend(abc.ABC):
    """Read access to dossiers by code, and the feed of recent changes the notifier polls."""

    @abc.abstractmethod
    async def get(self, code: str) -> Optional[Dossier]:
        """The dossier with ``code``, or None when there is none; BackendUnavailable when unreachable."""

    @abc.abstractmethod
    async def changed_since(self, ts: dt.datetime) -> List[Dossier]:
        """Dossiers updated strictly after ``ts`` (naive means UTC), oldest change first."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; the backend may be used again afterwards (it reconnects lazily)."""

    async def __aenter__(self) -> "DossierBackend":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


def utc(ts: dt.datetime) -> dt.datetime:
    """``ts`` as an aware UTC datetime (naive means UTC)."""
    return ts.replace(tzinfo=dt.timezone.utc) if ts.tzinfo is None else ts.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.timezone.utc)
