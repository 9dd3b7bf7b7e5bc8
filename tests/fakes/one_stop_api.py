"""A local stand-in for a one-stop system's dossier REST API (docs/dossier-api.md), over real HTTP.

Tests start it on a free port and tell it how to misbehave:
    api = FakeOneStopApi(dossiers, api_key="k"); base_url = await api.start()
    api.fail_next = 1        # the next request gets a 500, then normal answers
    api.mode = "error500"    # every request gets a 500
    api.mode = "slow"; api.delay = 0.3
    api.mode = "hang"        # never answers (until stop())
    api.mode = "unauthorized"
Manual demo with the seeded dossiers:  python -m tests.fakes.one_stop_api --port 8089 [--api-key KEY]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from typing import Any, Dict, Iterable, List, Optional, Union

from aiohttp import web

from onestop.dossiers.model import STATUS_LABELS_VI, Dossier, DossierStatus, parse_datetime


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class FakeOneStopApi:
    """Serves dossiers from a dict; records every request; can fail on demand."""

    def __init__(
        self, dossiers: Iterable[Union[Dossier, Dict[str, Any]]] = (), api_key: Optional[str] = "test-key"
    ) -> None:
        self.dossiers: Dict[str, Dict[str, Any]] = {}
        for d in dossiers:
            self.add(d)
        self.api_key = api_key
        self.mode = "ok"  # ok | error500 | slow | hang | unauthorized
        self.delay = 0.0
        self.fail_next = 0
        self.requests: List[Dict[str, Any]] = []
        self._release: Optional[asyncio.Event] = None
        self._runner: Optional[web.AppRunner] = None
        self.base_url = ""

    def add(self, d: Union[Dossier, Dict[str, Any]]) -> None:
        """Serve this dossier (a Dossier or the API's JSON dict)."""
        data = d.to_dict() if isinstance(d, Dossier) else dict(d)
        self.dossiers[data["code"]] = data

    def set_status(self, code: str, status: str, when: Optional[dt.datetime] = None) -> None:
        """Change a served dossier's status, as the one-stop system would."""
        data = self.dossiers[code]
        data["status"] = status
        data["status_label_vi"] = STATUS_LABELS_VI[DossierStatus(status)]
        data["updated_at"] = (when or dt.datetime.now(dt.timezone.utc)).isoformat()

    async def _misbehave(self, request: web.Request) -> Optional[web.Response]:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "authorization": request.headers.get("Authorization"),
            }
        )
        if self.mode == "hang":
            assert self._release is not None
            await self._release.wait()
            return _error(503, "unavailable", "shutting down")
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "unauthorized" or (
            self.api_key and request.headers.get("Authorization") != f"Bearer {self.api_key}"
        ):
            return _error(401, "unauthorized", "missing or invalid API key")
        if self.fail_next > 0:
            self.fail_next -= 1
            return _error(500, "internal", "temporary failure")
        if self.mode == "error500":
            return _error(500, "internal", "database unavailable")
        return None

    async def _get_one(self, request: web.Request) -> web.Response:
        failure = await self._misbehave(request)
        if failure is not None:
            return failure
        data = self.dossiers.get(request.match_info["code"])
        if data is None:
            return _error(404, "not_found", "no dossier with this code")
        return web.json_response(data)

    async def _changed(self, request: web.Request) -> web.Response:
        failure = await self._misbehave(request)
        if failure is not None:
            return failure
        try:
            since = parse_datetime(request.query["changed_since"])
        except (KeyError, ValueError):
            return _error(400, "bad_request", "changed_since (ISO 8601) is required")
        items = [d for d in self.dossiers.values() if parse_datetime(d["updated_at"]) > since]
        items.sort(key=lambda d: parse_datetime(d["updated_at"]))
        return web.json_response({"items": items})

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_get("/dossiers", self._changed)
        app.router.add_get("/dossiers/{code}", self._get_one)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (port 0: a free one) and return the base URL."""
        self._release = asyncio.Event()
        self._runner = web.AppRunner(self.app(), shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        real_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        """Release hanging requests and stop listening."""
        if self._release is not None:
            self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeOneStopApi":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


async def _serve(port: int, api_key: Optional[str]) -> None:
    from onestop.dossiers.seed import generate_demo_dossiers

    api = FakeOneStopApi(generate_demo_dossiers(), api_key=api_key)
    url = await api.start(port=port)
    print(
        f"fake one-stop API on {url} (DOSSIER_API_URL={url}"
        + (f" DOSSIER_API_KEY={api_key})" if api_key else ")")
    )
    try:
        await asyncio.Event().wait()
    finally:
        await api.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--api-key", default=None)
    ns = parser.parse_args()
    try:
        asyncio.run(_serve(ns.port, ns.api_key))
    except KeyboardInterrupt:
        pass
