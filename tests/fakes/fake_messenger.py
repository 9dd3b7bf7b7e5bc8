"""A local stand-in for the Messenger Send API (Graph), over real HTTP.

    fake = FakeMessenger(page_token="pt"); base = await fake.start()   # MESSENGER_GRAPH_BASE
    fake.fail_next("rate_limit", "http500")   # next sends fail like this, in order, then succeed
Failure modes: http500, rate_limit (613), rate_limit_app (4), bad_token (190), unavailable (551),
outside_window (10/2018278), slow (answers after ``delay`` s). Sender actions are recorded separately.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from aiohttp import web

FIXTURES = Path(__file__).resolve().parent.parent / "connectors" / "fixtures" / "messenger"
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
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def sign_messenger(app_secret: str, raw_body: bytes) -> str:
    """The X-Hub-Signature-256 value for a body."""
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def signed_messenger_request(delivery: Union[str, Dict[str, Any]], app_secret: str
                             ) -> Tuple[bytes, Dict[str, str]]:
    """(raw body, headers) for a webhook POST of a fixture name or delivery dict."""
    payload = load_fixture(delivery) if isinstance(delivery, str) else delivery
    raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": sign_messenger(app_secret, raw)}


class FakeMessenger:
    """Records every Send API call; fails on demand."""

    def __init__(self, page_token: str = "page-token", version: str = "v21.0") -> None:
        self.page_token = page_token
        self.version = version
        self.sends: List[Dict[str, Any]] = []  # message sends (including failed ones)
        self.delivered: List[Dict[str, Any]] = []
        self.actions: List[Dict[str, Any]] = []  # sender_action calls
        self.failures: List[str] = []
        self.delay = 1.0
        self._counter = 0
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    def fail_next(self, *modes: str) -> None:
        """Make the next message sends fail with these modes, in order."""
        self.failures.extend(modes)

    async def start(self) -> str:
        """Serve on a free local port; returns the base URL (without the version)."""
        app = web.Application()
        app.router.add_post(f"/{self.version}/me/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _error(error: Dict[str, Any], status: int = 400) -> web.Response:
        body = {"error": {"type": "OAuthException", "fbtrace_id": "FakeTrace", **error}}
        return web.json_response(body, status=status)

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        record = {"token": request.query.get("access_token"), "body": body, "time": time.monotonic()}
        if "sender_action" in body:
            self.actions.append(record)
            return web.json_response({"recipient_id": body.get("recipient", {}).get("id")})
        self.sends.append(record)
        if record["token"] != self.page_token:
            return self._error(ERRORS["bad_token"])
        if self.failures:
            mode = self.failures.pop(0)
            if mode == "http500":
                return web.Response(status=500, text="internal error")
            if mode == "slow":
                await asyncio.sleep(self.delay)
            elif mode in ERRORS:
                return self._error(ERRORS[mode])
        self.delivered.append(record)
        self._counter += 1
        return web.json_response({"recipient_id": body.get("recipient", {}).get("id"),
                                  "message_id": f"m_fake{self._counter}"})
