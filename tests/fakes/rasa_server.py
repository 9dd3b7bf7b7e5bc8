"""A tiny stand-in for the Rasa server's HTTP API: records `trigger_intent` calls, over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

from aiohttp import web


class FakeRasaServer:
    """Answers POST /conversations/{id}/trigger_intent with ``status`` and records each call."""

    def __init__(self, token: Optional[str] = None) -> None:
        self.token = token
        self.status = 200
        self.delay = 0.0
        self.calls: List[Dict[str, Any]] = []
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    async def _trigger(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(
            {"sender_id": request.match_info["sender_id"], "query": dict(request.query), "json": body}
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.token is not None and request.query.get("token") != self.token:
            return web.json_response({"status": "failure", "reason": "NotAuthenticated"}, status=401)
        if self.status != 200:
            return web.json_response({"status": "failure", "reason": "ServerError"}, status=self.status)
        # Rasa answers with the tracker and the bot's messages; the notifier only needs the status code.
        return web.json_response({"tracker": {"sender_id": request.match_info["sender_id"]}, "messages": []})

    async def start(self, host: str = "127.0.0.1") -> str:
        """Listen on a free port; return the base URL."""
        app = web.Application()
        app.router.add_post("/conversations/{sender_id}/trigger_intent", self._trigger)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, 0).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        return self.base_url

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
