"""A small HTTP load balancer for running several Rasa servers on one machine (`make run-cluster`).

Production puts a real one (nginx, a cloud load balancer, a Kubernetes Service) in front; this one exists so the
multi-instance set-up is exercised here. It routes only to backends whose /webhooks/ops/ready answers 200, keeps a
citizen on one backend while it is healthy (affinity by the sender id found in Zalo / Messenger / REST bodies, so
one user's messages queue in one process), and fails over to the next backend when a connection cannot be made.

python -m cluster.balancer --port 5005 --backend http://127.0.0.1:5006 --backend http://127.0.0.1:5007
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
from typing import List, Optional, Sequence

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
               "proxy-authenticate", "host", "content-length"}


def sender_of(body: bytes) -> Optional[str]:
    """The citizen's id in a Messenger, Zalo or REST webhook body, if there is one."""
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    try:
        if isinstance(data.get("entry"), list):  # Messenger
            return str(data["entry"][0]["messaging"][0]["sender"]["id"])
    except (KeyError, IndexError, TypeError):
        return None
    sender = data.get("sender")
    if isinstance(sender, dict) and sender.get("id"):  # Zalo
        return str(sender["id"])
    if isinstance(sender, (str, int)):  # Rasa REST
        return str(sender)
    return None


class Balancer:
    """Ready-checked backends, sender affinity, failover on connection errors."""

    def __init__(self, backends: Sequence[str], check_interval: float = 1.0) -> None:
        self.backends = [b.rstrip("/") for b in backends]
        self.ready = {b: False for b in self.backends}
        self.check_interval = check_interval
        self._rr = 0
        self._session: Optional[aiohttp.ClientSession] = None

    def order(self, key: Optional[str]) -> List[str]:
        """Backends to try: the sender's own first (if ready), then the other ready ones, then the rest."""
        healthy = [b for b in self.backends if self.ready[b]] or list(self.backends)
        if key is not None:
            start = int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(self.backends)
            ring = self.backends[start:] + self.backends[:start]
            return [b for b in ring if b in healthy] + [b for b in ring if b not in healthy]
        self._rr = (self._rr + 1) % len(healthy)
        return healthy[self._rr:] + healthy[:self._rr]

    async def _check(self) -> None:
        assert self._session is not None
        while True:
            for backend in self.backends:
                try:
                    async with self._session.get(f"{backend}/webhooks/ops/ready",
                                                 timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        ok = resp.status == 200
                except Exception:
                    ok = False
                if ok != self.ready[backend]:
                    log.info("backend %s is %s", backend, "ready" if ok else "NOT ready")
                self.ready[backend] = ok
            await asyncio.sleep(self.check_interval)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Forward one request."""
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        last_error = "no backend"
        for backend in self.order(sender_of(body)):
            try:
                async with self._session.request(request.method, backend + request.rel_url.raw_path_qs,
                                                 headers=headers, data=body, allow_redirects=False) as resp:
                    payload = await resp.read()
                    out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_HEADERS}
                    return web.Response(status=resp.status, body=payload, headers=out)
            except aiohttp.ClientConnectorError as exc:  # nothing reached the backend: safe to try the next one
                self.ready[backend] = False
                last_error = f"{backend}: {type(exc).__name__}"
        return web.json_response({"error": "no backend available", "detail": last_error}, status=502)

    async def start(self, app: web.Application) -> None:
        """Open the session and start health checks."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        app["checker"] = asyncio.ensure_future(self._check())

    async def stop(self, app: web.Application) -> None:
        """Stop checks and close the session."""
        app["checker"].cancel()
        if self._session is not None:
            await self._session.close()

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.on_startup.append(self.start)
        app.on_cleanup.append(self.stop)

        async def status(_: web.Request) -> web.Response:
            return web.json_response({"backends": self.ready})

        app.router.add_get("/_balancer", status)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m cluster.balancer", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--backend", action="append", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(Balancer(args.backend).app(), host="0.0.0.0", port=args.port, print=None)


if __name__ == "__main__":
    main()
