"""A local stand-in for the Messenger Send API (Graph), over real HTTP.

    fake = FakeMessenger(page_token="pt"); base = await fake.start()   # MESSENGER_GRAPH_BASE
    fake.fail_next("rate_limit", "http500")   # next sends fail like this, in order, then succeed
Failure modes: http500, rate_limit (613), rate_limit_app (4), bad_token (190), unavailable (551),
outside_window (10/2018278), slow (answers after ``delay`` s). Sender actions are recorded separately.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Dict, List, Optional, Tuple, Union

from aiohttp import web

from tests.fakes.platform import FakePlatform, load_platform_fixture

ERRORS = {
    "rate_limit": {"message": "(#613) Calls to this api have exceeded the rate limit.", "code": 613},
    "rate_limit_app": {"message": "(#4) Application request limit reached", "code": 4},
    "bad_token": {"message": "Error validating access token", "code": 190},
    "unavailable": {"message": "This person isn't available right now.", "code": 551},
    "outside_window": {"message": "(#10) This message is sent outside of allowed window.", "code": 10,
                       "error_subcode": 2018278},
}


def load_fixture(name: str) -> Dict[str, Any]:
    """A Messenger fixture payload by file stem (e.g. ``text``)."""
    return load_platform_fixture("messenger", name)


def sign_messenger(app_secret: str, raw_body: bytes) -> str:
    """The X-Hub-Signature-256 value for a body."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def signed_messenger_request(delivery: Union[str, Dict[str, Any]], app_secret: str
                             ) -> Tuple[bytes, Dict[str, str]]:
    """(raw body, headers) for a webhook POST of a fixture name or delivery dict."""
    payload = load_fixture(delivery) if isinstance(delivery, str) else delivery
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": sign_messenger(app_secret, raw)}


class FakeMessenger(FakePlatform):
    """Records every Send API call; fails on demand."""

    def __init__(self, page_token: str = "page-token", version: str = "v21.0") -> None:
        super().__init__()
        self.page_token = page_token
        self.version = version
        self.actions: List[Dict[str, Any]] = []  # sender_action calls (not in ``sends``)

    def routes(self) -> List[web.RouteDef]:
        """The Send API of one Graph version."""
        return [web.post(f"/{self.version}/me/messages", self._messages)]

    def error(self, mode: str) -> Optional[web.Response]:
        """A Graph error object, as Meta answers it."""
        if mode not in ERRORS:
            return None
        body = {"error": {"type": "OAuthException", "fbtrace_id": "FakeTrace", **ERRORS[mode]}}
        return web.json_response(body, status=400)

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        token = request.query.get("access_token")
        if "sender_action" in body:
            self.actions.append({"token": token, "body": body, "time": time.monotonic()})
            return web.json_response({"recipient_id": body.get("recipient", {}).get("id")})
        record = self.record(body, token)
        if record["token"] != self.page_token:
            return self.error("bad_token")  # type: ignore[return-value]
        failed = await self.injected_failure()
        if failed is not None:
            return failed
        number = self.deliver(record)
        return web.json_response({"recipient_id": body.get("recipient", {}).get("id"),
                                  "message_id": f"m_fake{number}"})
