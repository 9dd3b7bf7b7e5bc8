"""The action server: rasa_sdk's app plus a start-up warm-up and a readiness endpoint.

`python -m actions.server --port 5055` (what `make run` and the cluster start). /health is rasa_sdk's liveness;
/ready answers 503 until the knowledge search (embedding model, FAISS index) is loaded, so the first citizen's
procedure question is not the slow one. Sanic finishes requests in flight on SIGTERM (graceful_shutdown_timeout).

Only the Rasa servers may run actions: the server listens on 127.0.0.1 unless told otherwise, and when
ACTION_SERVER_TOKEN is set (always in the cluster and in compose, where it must listen on a network) every call of
/webhook and /actions must carry it in the X-Action-Token header (bot/endpoints*.yml send it).
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import logging
import os
from typing import Any, Optional, Sequence

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Action-Token"
OPEN_PATHS = ("/health", "/ready")  # liveness and readiness for the orchestrator; they reveal nothing


def action_token(env: Optional[Any] = None) -> str:
    """The shared secret the Rasa servers send (ACTION_SERVER_TOKEN; empty: none configured)."""
    env = os.environ if env is None else env
    return (env.get("ACTION_SERVER_TOKEN") or "").strip()


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(warm_up: bool = True) -> Any:
    """rasa_sdk's Sanic app for the ``actions`` package, with warm-up and /ready."""
    from rasa_sdk.endpoint import create_app

    app = create_app("actions", cors_origins="*")
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = float(os.environ.get("ACTION_SHUTDOWN_TIMEOUT", "30"))
    app.ctx.ready = not warm_up
    app.ctx.stopping = False
    secret = action_token().encode("utf-8")

    @app.on_request
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if not secret or request.path in OPEN_PATHS:
            return None
        sent = (request.headers.get(TOKEN_HEADER) or "").encode("utf-8")
        if not hmac.compare_digest(sent, secret):
            return response.json({"error": "forbidden"}, status=403)
        return None

    async def _warm() -> None:
        from knowledge import client as knowledge_client

        seconds = await asyncio.to_thread(knowledge_client.warm_up)
        app.ctx.ready = True
        log.info("knowledge search warmed up in %s s", seconds)

    @app.listener("after_server_start")
    async def start(app_: Any, _loop: Any) -> None:
        if warm_up:
            app_.add_task(_warm())

    @app.listener("before_server_stop")
    async def stop(app_: Any, _loop: Any) -> None:
        app_.ctx.stopping = True

    @app.get("/ready")
    async def ready(request: Request) -> HTTPResponse:
        ok = request.app.ctx.ready and not request.app.ctx.stopping
        return response.json({"ready": ok}, status=200 if ok else 503)

    return app


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"),
                        help="listen address (default 127.0.0.1; another one needs ACTION_SERVER_TOKEN)")
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not is_loopback(args.host) and not action_token():
        parser.error(f"listening on {args.host} needs ACTION_SERVER_TOKEN: anyone reaching the port could run "
                     "any action for any conversation")
    app = build_app(warm_up=not args.no_warm_up)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
