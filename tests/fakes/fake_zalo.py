"""A local stand-in for Zalo's OA Send API and OAuth token refresh, over real HTTP.

    fake = FakeZalo(app_id="...", app_secret="s", access_token="at-0", refresh_token="rt-0")
    api_base = await fake.start()      # the same base serves /v3.0/oa/message/cs and /v4/oa/access_token
    fake.fail_next("rate_limit", "http500")  # the next sends fail like this, in order, then succeed
    fake.expire_access_tokens()              # every issued access token becomes invalid (-216)
Failure modes: http500, rate_limit (-32), token_invalid (-216), token_expired (-220), outside_window (-230),
not_follower (-213), slow (answers after ``delay`` s). Refresh tokens are single-use: a spent one is rejected.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple, Union

from aiohttp import web

from tests.fakes.platform import FakePlatform, load_platform_fixture

ERRORS = {
    "rate_limit": (-32, "Reached limit call api"),
    "token_invalid": (-216, "Access token is invalid"),
    "token_expired": (-220, "Access token has expired"),
    "outside_window": (-230, "User has not interacted with the OA in the past 7 days"),
    "not_follower": (-213, "User has not followed the OA"),
}


def load_fixture(name: str) -> Dict[str, Any]:
    """A Zalo fixture payload by file stem (e.g. ``user_send_text``)."""
    return load_platform_fixture("zalo", name)


def sign_zalo(app_id: str, raw_body: bytes, timestamp: str, oa_secret: str) -> str:
    """The X-ZEvent-Signature value for a body (independent of the connector's implementation)."""
    digest = hashlib.sha256(f"{app_id}".encode() + raw_body + f"{timestamp}{oa_secret}".encode()).hexdigest()
    return f"mac={digest}"


def signed_zalo_request(event: Union[str, Dict[str, Any]], oa_secret: str, app_id: Optional[str] = None,
                        **overrides: Any) -> Tuple[bytes, Dict[str, str]]:
    """(raw body, headers) for a webhook POST of a fixture name or event dict, signed with ``oa_secret``."""
    payload = load_fixture(event) if isinstance(event, str) else dict(event)
    payload.update(overrides)
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    app = app_id or str(payload.get("app_id", ""))
    headers = {"Content-Type": "application/json",
               "X-ZEvent-Signature": sign_zalo(app, raw, str(payload.get("timestamp", "")), oa_secret)}
    return raw, headers


class FakeZalo(FakePlatform):
    """Records every send; serves token refresh with rotation; fails on demand."""

    def __init__(self, app_id: str, app_secret: str, access_token: str = "at-0",
                 refresh_token: str = "rt-0") -> None:
        super().__init__()
        self.app_id = app_id
        self.app_secret = app_secret
        self.valid_access: Set[str] = {access_token}
        self.valid_refresh: Set[str] = {refresh_token}
        self.spent_refresh: Set[str] = set()
        self.refresh_calls: List[Dict[str, Any]] = []
        self.refresh_delay = 0.0
        self.before_send: Optional[Callable[[Dict[str, Any]], Awaitable[None]]] = None

    def expire_access_tokens(self) -> None:
        """Invalidate every access token issued so far."""
        self.valid_access.clear()

    def routes(self) -> List[web.RouteDef]:
        """The same base serves the OA Send API and the OAuth token refresh."""
        return [web.post("/v3.0/oa/message/cs", self._send), web.post("/v4/oa/access_token", self._refresh)]

    def error(self, mode: str) -> Optional[web.Response]:
        """Zalo's errors: HTTP 200 with a negative ``error``."""
        if mode not in ERRORS:
            return None
        code, message = ERRORS[mode]
        return web.json_response({"error": code, "message": message})

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        record = self.record(body, request.headers.get("access_token"))
        failed = await self.injected_failure()
        if failed is not None:
            return failed
        if record["token"] not in self.valid_access:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        if self.before_send is not None:
            await self.before_send(record)
        number = self.deliver(record)
        user = str((body.get("recipient") or {}).get("user_id", ""))
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": f"mid-{number}", "user_id": user}})

    async def _refresh(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("refresh_token", ""))
        call = {"refresh_token": token, "app_id": form.get("app_id"), "grant_type": form.get("grant_type"),
                "secret_key": request.headers.get("secret_key"), "ok": False}
        self.refresh_calls.append(call)
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        if call["secret_key"] != self.app_secret or call["app_id"] != self.app_id or \
                call["grant_type"] != "refresh_token":
            return web.json_response({"error": -14002, "error_name": "Invalid app"})
        if token not in self.valid_refresh:
            return web.json_response({"error": -14014, "error_name": "Invalid parameter",
                                      "error_reason": "Invalid refresh token"})
        self.valid_refresh.discard(token)
        self.spent_refresh.add(token)
        self._counter += 1
        access, refresh = f"at-{self._counter}", f"rt-{self._counter}"
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        call["ok"] = True
        return web.json_response({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})
