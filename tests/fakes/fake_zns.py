"""A local stand-in for Zalo's ZNS template message API, over real HTTP.

    fake = FakeZns(access_token="zns-at", templates={"123456": ["customer_name", "booking_code"]})
    base = await fake.start()            # serves POST /message/template (ZNS_API_URL=base)
    fake.fail_next("unknown", "http500") # the next sends fail like this, in order, then succeed
Checks what the real API checks: the ``access_token`` header (-124), the phone in 84xxxxxxxxx form (-108), a
known template id (-109), template data present (-111) with exactly the template's parameters (-112).
Failure modes: http500, unknown (-100, "try again later"), token_invalid (-124), out_of_quota, user_cannot_receive,
slow (answers after ``delay`` s). The quota and user codes follow zalo.cloud's error table, whose numbering
could not be confirmed from an official copy: the client treats every code but -100 and -124 as final anyway.
"""
from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set

from aiohttp import web

from tests.fakes.platform import serve_on_free_port

ERRORS = {
    "unknown": (-100, "Unknown error"),
    "token_invalid": (-124, "Access token is invalid"),
    "out_of_quota": (-115, "Out of quota"),
    "user_cannot_receive": (-119, "Account can not receive messages"),
}
_PHONE_RE = re.compile(r"^84\d{9}$")


class FakeZns:
    """Records every send; validates like ZNS; fails on demand."""

    def __init__(self, access_token: str = "zns-at", templates: Optional[Mapping[str, Sequence[str]]] = None) -> None:
        self.valid_access: Set[str] = {access_token}
        self.templates: Dict[str, List[str]] = {k: list(v) for k, v in (templates or {}).items()}
        self.sends: List[Dict[str, Any]] = []       # every request, failed ones included
        self.delivered: List[Dict[str, Any]] = []   # requests answered with success
        self.failures: List[str] = []
        self.delay = 1.0
        self._counter = 0
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    def fail_next(self, *modes: str) -> None:
        """Make the next sends fail with these modes, in order."""
        self.failures.extend(modes)

    async def start(self) -> str:
        """Serve on a free local port; returns the base URL."""
        app = web.Application()
        app.router.add_post("/message/template", self._send)
        self._runner, self.base_url = await serve_on_free_port(app)
        return self.base_url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @staticmethod
    def _error(code: int, message: str) -> web.Response:
        return web.json_response({"error": code, "message": message})

    async def _send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self._error(-106, "Method unsupported")
        record = {"token": request.headers.get("access_token"), "body": body, "time": time.monotonic()}
        self.sends.append(record)
        if self.failures:
            mode = self.failures.pop(0)
            if mode == "http500":
                return web.Response(status=500, text="internal error")
            if mode == "slow":
                await asyncio.sleep(self.delay)
            elif mode in ERRORS:
                return self._error(*ERRORS[mode])
        if record["token"] not in self.valid_access:
            return self._error(-124, "Access token is invalid")
        if not isinstance(body, dict) or not _PHONE_RE.match(str(body.get("phone", ""))):
            return self._error(-108, "Phone number invalid")
        params = self.templates.get(str(body.get("template_id", "")))
        if params is None:
            return self._error(-109, "Template ID invalid")
        data = body.get("template_data")
        if not isinstance(data, dict) or not data:
            return self._error(-111, "Template data empty")
        if set(data) != set(params) or not all(isinstance(v, str) and v for v in data.values()):
            return self._error(-112, "Template data invalid")
        self.delivered.append(record)
        self._counter += 1
        return web.json_response({"error": 0, "message": "Success", "data": {
            "msg_id": f"zns-msg-{self._counter}", "sent_time": str(int(time.time() * 1000)),
            "quota": {"dailyQuota": "500", "remainingQuota": str(500 - self._counter)}}})
