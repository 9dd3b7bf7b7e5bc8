"""The action server: rasa_sdk's app plus a start-up warm-up and a readiness endpoint.

`python -m actions.server --port 5055` (what `make run` and the cluster start). /health is rasa_sdk's liveness;
/ready answers 503 until the knowledge search (embedding model, FAISS index) is loaded, so the first citizen's
procedure question is not the slow one. Sanic finishes requests in flight on SIGTERM (graceful_shutdown_timeout).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import Any, Optional, Sequence

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)


def build_app(warm_up: bool = True) -> Any:
    """rasa_sdk's Sanic app for the ``actions`` package, with warm-up and /ready."""
    from rasa_sdk.endpoint import create_app

    app = create_app("actions", cors_origins="*")
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = float(os.environ.get("ACTION_SHUTDOWN_TIMEOUT", "30"))
    app.ctx.ready = not warm_up
    app.ctx.stopping = False

    async def _warm() -> None:
        from actions import knowledge_client

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
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "0.0.0.0"))
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build_app(warm_up=not args.no_warm_up)
    app.run(args.host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
