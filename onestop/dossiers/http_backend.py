"""Client of the one-stop system's REST API (docs/dossier-api.md), with a time budget per call and retries."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, List, Mapping, Optional
from urllib.parse import quote

import aiohttp

from infra.retry import RetryPolicy
from onestop.dossiers.interface import BackendUnavailable, DossierBackend, utc
from onestop.dossiers.model import Dossier, canonical_code

log = logging.getLogger(__name__)


class HttpDossierBackend(DossierBackend):
    """Client of the one-stop system's REST API (docs/dossier-api.md)."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        *,
        timeout: float = 4.0,
        attempt_timeout: float = 2.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout  # budget for one call, retries included: the citizen is waiting in a chat
        self.attempt_timeout = attempt_timeout
        self.retries = retries
        self.backoff = backoff
        self.policy = RetryPolicy(max_attempts=retries + 1, base_delay=backoff, max_delay=timeout,
                                  timeout=attempt_timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    async def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        # A session is bound to the loop that created it; a CLI or test running a new loop needs its own.
        if self._session is None or self._session.closed or self._session_loop is not loop:
            headers = {"Accept": "application/json", "User-Agent": "mot-cua-assistant/0.1"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._session = aiohttp.ClientSession(
                headers=headers,
                connector=aiohttp.TCPConnector(limit=20, ttl_dns_cache=300),
                raise_for_status=False,
            )
            self._session_loop = loop
        return self._session

    async def _get_json(
        self, path: str, params: Optional[Mapping[str, str]] = None, not_found_is_none: bool = False
    ) -> Any:
        session = await self._get_session()
        deadline = time.monotonic() + self.timeout
        url = self.base_url + path
        last: Optional[BackendUnavailable] = None
        for attempt in range(1, self.policy.max_attempts + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.01:
                break
            per_try = aiohttp.ClientTimeout(total=min(self.policy.timeout, remaining))
            try:
                async with session.get(url, params=params, timeout=per_try) as resp:
                    if resp.status == 404 and not_found_is_none:
                        return None
                    if resp.status in (401, 403):
                        # Retrying cannot fix a wrong or revoked key; operators must see it at once.
                        raise BackendUnavailable("auth", f"HTTP {resp.status} from {path}")
                    if resp.status >= 500 or resp.status == 429:
                        last = BackendUnavailable("server_error", f"HTTP {resp.status} from {path}")
                    elif resp.status >= 400:
                        raise BackendUnavailable("bad_request", f"HTTP {resp.status} from {path}")
                    else:
                        try:
                            return await resp.json(content_type=None)
                        except ValueError as exc:
                            raise BackendUnavailable("bad_response", f"invalid JSON from {path}") from exc
            except asyncio.TimeoutError:
                last = BackendUnavailable("timeout", f"no answer from {path} within {per_try.total:.1f}s")
            except aiohttp.ClientError as exc:
                last = BackendUnavailable("connection", f"{type(exc).__name__}: {exc}")
            if not await self.policy.wait(attempt, deadline):   # never past the call's deadline
                break
        raise last or BackendUnavailable("timeout", f"no answer from {path} within {self.timeout:.1f}s")

    async def get(self, code: str) -> Optional[Dossier]:
        """GET /dossiers/{code}: the dossier, None on 404, BackendUnavailable otherwise."""
        code = canonical_code(code)
        if not code:
            return None
        data = await self._get_json("/dossiers/" + quote(code, safe=""), not_found_is_none=True)
        if data is None:
            return None
        try:
            dossier = Dossier.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendUnavailable("bad_response", f"dossier JSON does not fit: {exc}") from exc
        if dossier.code.upper() != code.upper():
            raise BackendUnavailable("bad_response", "answer is about another dossier")
        return dossier

    async def changed_since(self, ts: dt.datetime) -> List[Dossier]:
        """GET /dossiers?changed_since=ISO: changed dossiers; malformed items are skipped and logged."""
        data = await self._get_json("/dossiers", params={"changed_since": utc(ts).isoformat()})
        items = data.get("items") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise BackendUnavailable("bad_response", "changed_since answer is not a list")
        out: List[Dossier] = []
        for item in items:
            try:
                out.append(Dossier.from_dict(item))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                # One bad record must not hide every other change from the notifier.
                log.warning("skipping malformed dossier in changed_since: %s", exc)
        out.sort(key=lambda d: utc(d.updated_at))
        return out

    async def close(self) -> None:
        """Close the HTTP session (a new one is created on next use)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        self._session_loop = None
