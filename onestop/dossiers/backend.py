"""Where dossiers come from: the one-stop system's REST API, or the embedded demo store.

`get_backend()` picks the HTTP client when DOSSIER_API_URL is set, else the demo store (an SQL table seeded on
first use with deterministic demo dossiers, see `seed`). Both raise `BackendUnavailable` when they cannot answer,
so the bot can say "the lookup system is not answering, try again later" instead of "no such dossier".
"""
from __future__ import annotations

import os
from typing import Mapping, Optional

from onestop.dossiers.demo_store import DemoDossierBackend
from onestop.dossiers.http_backend import HttpDossierBackend
from onestop.dossiers.interface import BackendUnavailable, DossierBackend

__all__ = ["BackendUnavailable", "DemoDossierBackend", "DossierBackend", "HttpDossierBackend", "get_backend",
           "make_backend", "reset_backend"]


def make_backend(env: Optional[Mapping[str, str]] = None) -> DossierBackend:
    """A new backend from the environment: HTTP when DOSSIER_API_URL is set, else the demo store."""
    env = os.environ if env is None else env
    url = (env.get("DOSSIER_API_URL") or "").strip()
    if url:
        return HttpDossierBackend(
            url, env.get("DOSSIER_API_KEY") or None, timeout=float(env.get("DOSSIER_API_TIMEOUT") or 4.0)
        )
    return DemoDossierBackend()


_shared: Optional[DossierBackend] = None


def get_backend() -> DossierBackend:
    """The process-wide backend (created on first call) so actions share one HTTP session."""
    global _shared
    if _shared is None:
        _shared = make_backend()
    return _shared


async def reset_backend() -> None:
    """Close and forget the process-wide backend (tests, configuration changes)."""
    global _shared
    backend, _shared = _shared, None
    if backend is not None:
        await backend.close()
