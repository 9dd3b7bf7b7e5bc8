"""Operator endpoints on every Rasa server: liveness, readiness, Prometheus metrics, start-up warm-up.

Registered like a channel (credentials file, by module path), so it shares the Rasa server's port:

    cluster.ops.OpsChannel:
      warm_up: true

GET /webhooks/ops/health   200 while the process serves requests (liveness)
GET /webhooks/ops/ready    200 once the model is loaded and warmed up, the lock store's Redis and the action server
                           answer; 503 with the reason otherwise, and from the moment shutdown begins
GET /webhooks/ops/metrics  Prometheus text format
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from cluster.lock_store import AtomicRedisLockStore
from infra.metrics import CONTENT_TYPE, registry

log = logging.getLogger(__name__)
WARM_UP_TEXTS = ("xin chào", "làm giấy khai sinh cần giấy tờ gì")
_process_stopping = False


def mark_stopping(stopping: bool = True) -> None:
    """Record that this process began to shut down (readiness answers 503), or started again (tests).

    Called by whichever shutdown listener runs first: Sanic runs them in reverse order of registration, so the
    connectors' (which wait up to CONNECTOR_DRAIN_SECONDS for queued turns) run before this channel's own."""
    global _process_stopping
    _process_stopping = stopping


def lock_store_samples(store: Any) -> Iterable[Tuple[str, str, str, Dict[str, str], float]]:
    """Lock-wait figures of an AtomicRedisLockStore."""
    if not isinstance(store, AtomicRedisLockStore):
        return []
    s = store.stats
    return [
        ("assistant_lock_acquired_total", "counter", "Conversation locks taken.", {}, s.acquired),
        ("assistant_lock_waits_total", "counter", "Lock acquisitions that waited for another turn.", {}, s.waited),
        ("assistant_lock_wait_seconds_total", "counter", "Time spent waiting for conversation locks.", {},
         s.wait_seconds),
        ("assistant_lock_timeouts_total", "counter", "Lock waits that gave up (max_wait).", {}, s.timeouts),
        ("assistant_lock_redis_errors_total", "counter", "Redis errors in the lock store.", {}, s.redis_errors),
    ]


class _UnansweredCounts:
    """Declines and fallbacks from the shared database (all instances), cached for a few seconds."""

    def __init__(self, ttl: float = 15.0) -> None:
        self.ttl = ttl
        self._at = 0.0
        self._rows: List[Tuple[str, int]] = []

    def refresh(self) -> None:
        """Read the counts (blocking: called from a worker thread)."""
        import sqlalchemy as sa

        from infra import db

        with db.get_engine().connect() as conn:
            rows = conn.execute(sa.select(db.unanswered.c.reason, sa.func.count())
                                .group_by(db.unanswered.c.reason)).all()
        self._rows = [(str(r[0]), int(r[1])) for r in rows]
        self._at = time.monotonic()

    def stale(self) -> bool:
        return time.monotonic() - self._at > self.ttl

    def samples(self) -> Iterable[Tuple[str, str, str, Dict[str, str], float]]:
        return [("assistant_unanswered_total", "counter",
                 "Questions the bot could not answer (declined search or fallback), all instances.",
                 {"reason": reason}, count) for reason, count in self._rows]


class OpsChannel(InputChannel):
    """Health, readiness and metrics endpoints, and the warm-up, for operators and load balancers."""

    @classmethod
    def name(cls) -> Text:
        return "ops"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "OpsChannel":
        creds = credentials or {}
        return cls(warm_up=str(creds.get("warm_up", True)).lower() not in ("false", "0", "no"))

    def __init__(self, warm_up: bool = True) -> None:
        self.warm_up = warm_up
        self.warmed = not warm_up
        self.stopping = False
        self.unanswered = _UnansweredCounts()
        self._session: Optional[aiohttp.ClientSession] = None

    async def _warm(self, app: Any) -> None:
        """Run the NLU and the policies once so the first citizen does not pay for graph tracing."""
        started = time.monotonic()
        agent = getattr(app.ctx, "agent", None)
        for _ in range(600):
            if agent is not None and agent.is_ready():
                break
            await asyncio.sleep(0.5)
            agent = getattr(app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            log.warning("warm-up skipped: no model loaded")
            return
        from rasa.shared.core.trackers import DialogueStateTracker

        for text in WARM_UP_TEXTS:
            parsed = await agent.parse_message(text)
            tracker = DialogueStateTracker.from_dict("__warm_up__", [
                {"event": "action", "name": "action_listen"},
                {"event": "user", "text": text, "parse_data": parsed}], agent.domain.slots)
            agent.processor.predict_next_with_tracker(tracker)  # never saved: no conversation is created
        self.warmed = True
        log.info("warm-up done in %.1f s", time.monotonic() - started)

    async def _check_ready(self, app: Any) -> List[str]:
        problems: List[str] = []
        agent = getattr(app.ctx, "agent", None)
        if self.stopping or _process_stopping:
            problems.append("shutting down")
        if agent is None or not agent.is_ready():
            problems.append("model not loaded")
        elif not self.warmed:
            problems.append("warming up")
        store = getattr(agent, "lock_store", None)
        if isinstance(store, AtomicRedisLockStore):
            try:
                await asyncio.wait_for(store._client().ping(), 2)
            except Exception as exc:
                problems.append(f"redis: {type(exc).__name__}")
        endpoint = getattr(agent, "action_endpoint", None)
        if endpoint is not None and endpoint.url:
            url = endpoint.url.rsplit("/webhook", 1)[0] + "/health"
            try:
                if self._session is None:
                    self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))
                async with self._session.get(url) as resp:
                    if resp.status != 200:
                        problems.append(f"action server: HTTP {resp.status}")
            except Exception as exc:
                problems.append(f"action server: {type(exc).__name__}")
        return problems

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("ops_webhook", __name__)
        reg = registry()

        @bp.listener("after_server_start")
        async def start(app: Any, _loop: Any) -> None:
            mark_stopping(False)
            reg.add_collector(lambda: lock_store_samples(getattr(getattr(app.ctx, "agent", None), "lock_store", None)))
            reg.add_collector(self.unanswered.samples)
            if self.warm_up:
                app.add_task(self._warm(app))

        @bp.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            self.stopping = True  # the load balancer stops sending while turns in flight finish
            mark_stopping()
            if self._session is not None:
                await self._session.close()

        @bp.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/ready", methods=["GET"])
        async def ready(request: Request) -> HTTPResponse:
            problems = await self._check_ready(request.app)
            return response.json({"ready": not problems, "problems": problems}, status=503 if problems else 200)

        @bp.route("/metrics", methods=["GET"])
        async def metrics(_: Request) -> HTTPResponse:
            if self.unanswered.stale():
                try:
                    await asyncio.to_thread(self.unanswered.refresh)
                except Exception:
                    log.exception("could not count unanswered questions")
            return response.text(reg.render(), content_type=CONTENT_TYPE)

        return bp
