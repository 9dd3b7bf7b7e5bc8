"""What the fake messaging platforms (Zalo, Messenger) share: a local aiohttp server on a free port, the record
of every send, and failures queued on demand (``fail_next``), each answered the way the platform answers it."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from aiohttp import web

FIXTURES = Path(__file__).resolve().parent.parent / "connectors" / "fixtures"


async def serve_on_free_port(app: web.Application) -> Tuple[web.AppRunner, str]:
    """Serve ``app`` on a free local port; (the runner to clean up, the base URL)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def load_platform_fixture(platform: str, name: str) -> Dict[str, Any]:
    """A webhook payload of ``platform`` by file stem (tests/connectors/fixtures/<platform>/<name>.json)."""
    return json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))


class FakePlatform:
    """A running fake Send API: subclasses give the ``routes`` and how a named failure is answered."""

    def __init__(self) -> None:
        self.sends: List[Dict[str, Any]] = []  # every send request (including failed ones)
        self.delivered: List[Dict[str, Any]] = []  # sends answered with success
        self.failures: List[str] = []
        self.delay = 1.0  # how long a "slow" answer takes
        self._counter = 0
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    def routes(self) -> List[web.RouteDef]:
        """The platform's endpoints."""
        raise NotImplementedError

    def error(self, mode: str) -> Optional[web.Response]:
        """The platform's answer for the failure ``mode`` (None: not one of its errors)."""
        raise NotImplementedError

    def fail_next(self, *modes: str) -> None:
        """Make the next sends fail with these modes, in order, then succeed."""
        self.failures.extend(modes)

    async def start(self) -> str:
        """Serve on a free local port; returns the base URL."""
        app = web.Application()
        app.add_routes(self.routes())
        self._runner, self.base_url = await serve_on_free_port(app)
        return self.base_url

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def record(self, body: Dict[str, Any], token: Optional[str]) -> Dict[str, Any]:
        """Note one send request (its token, body and arrival time)."""
        record = {"token": token, "body": body, "time": time.monotonic()}
        self.sends.append(record)
        return record

    async def injected_failure(self) -> Optional[web.Response]:
        """The answer of the next queued failure: HTTP 500, a platform error, or None after a slow pause."""
        if not self.failures:
            return None
        mode = self.failures.pop(0)
        if mode == "http500":
            return web.Response(status=500, text="internal error")
        if mode == "slow":
            await asyncio.sleep(self.delay)
            return None
        return self.error(mode)

    def deliver(self, record: Dict[str, Any]) -> int:
        """Count ``record`` as delivered; returns its sequence number (for message ids)."""
        self.delivered.append(record)
        self._counter += 1
        return self._counter
