"""Bot turns on a dedicated thread with its own event loop; the webhook's loop only verifies, dedupes, acks.

Rasa 3.6 runs NLU and policy inference synchronously inside a turn (TensorFlow, tens to hundreds of ms a
call); on Sanic's loop every webhook acknowledgement waited behind it. The channels hand each verified,
de-duplicated event to one "turn loop" in a background thread (``loop.call_soon_threadsafe``); the turn
(``on_new_message`` -> ``agent.handle_message``) and every send of its answer run there.

What a turn touches from that thread, and why it is safe:
- tracker stores: Redis (redis-py's connection pool is thread-safe), SQL (a session per call), in-memory
  (a dict of serialised trackers);
- the lock store and the model graph: Rasa assumes one thread, and REST/API turns (``trigger_intent`` from the
  dossier notifier and the reminders, the ``rest`` channel) still run on Sanic's loop, so
  ``make_rasa_thread_safe`` serialises lock-store ticket updates and graph runs with process-wide locks;
- a Pika event broker creates its publishing task on the loop it was built on: publishes are forwarded there;
- aiohttp sessions and redis.asyncio clients belong to the loop that made them: the outputs' sends, the Zalo
  token refresher and the officer-pause markers only run on the turn loop (``on_turn_loop``), the webhook
  dedupe markers only on Sanic's loop.
One thread for every channel, so that two graph runs never overlap. Not covered: Rasa's reminder scheduler
(``ReminderScheduled`` events) is bound to one loop; this bot schedules none. CONNECTOR_TURN_THREAD=0 runs
the turns on Sanic's loop as before.
"""
from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import threading
from typing import Any, Callable, Coroutine, Optional, Protocol, TypeVar

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from cluster.ops import mark_stopping
from connectors import http
from connectors.faults import install_fault_handling

logger = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_MARK = "_connector_thread_safe"
# Rasa's LockStore does read-modify-write of a ticket lock in these (synchronous) methods.
_LOCK_STORE_METHODS = ("issue_ticket", "update_lock", "finish_serving", "cleanup")
_GRAPH_LOCK = threading.Lock()


def _current_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def run_on(loop: Optional[asyncio.AbstractEventLoop], coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on ``loop`` (directly when already there or when ``loop`` is None)."""
    if loop is None or _current_loop() is loop:
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def turn_thread_enabled() -> bool:
    """False when CONNECTOR_TURN_THREAD is 0/false/no/off."""
    return os.environ.get("CONNECTOR_TURN_THREAD", "1").strip().lower() not in ("0", "false", "no", "off")


class TurnThread:
    """A background thread running an asyncio loop; started by the first channel, stopped by the last one."""

    def __init__(self, name: str = "connector-turns") -> None:
        self.name = name
        self._guard = threading.Lock()
        self._holders = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """The turn loop while the thread runs, else None."""
        return self._loop

    def acquire(self) -> None:
        """Take a hold on the thread, starting it when it is not running (no-op when disabled)."""
        if not turn_thread_enabled():
            return
        with self._guard:
            self._holders += 1
            if self._thread is not None:
                return
            loop = asyncio.new_event_loop()
            started = threading.Event()
            thread = threading.Thread(target=self._run, args=(loop, started), name=self.name, daemon=True)
            thread.start()
            started.wait()
            self._loop, self._thread = loop, thread
            logger.info("connector turns run on thread %s", self.name)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        try:
            loop.run_forever()
            # Jobs still running after the drain timeout: cancel them (logged) rather than drop them silently.
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                logger.warning("%d connector job(s) cancelled at shutdown", len(leftovers))
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()

    async def release(self, join_timeout: float = 10.0) -> None:
        """Drop a hold; the last one closes the turn loop's HTTP session and stops the thread."""
        with self._guard:
            if self._holders == 0:
                return
            self._holders -= 1
            if self._holders:
                return
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        assert loop is not None and thread is not None
        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(http.close_session(), loop))
        finally:
            loop.call_soon_threadsafe(loop.stop)
            await asyncio.to_thread(thread.join, join_timeout)

    def on_turn_loop(self) -> bool:
        """True when called from the turn loop, or when no turn thread runs (everything is local then)."""
        return self._loop is None or _current_loop() is self._loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the turn loop (directly when already there or when no thread runs)."""
        return await run_on(self._loop, coro)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> None:
        """Call ``callback(*args)`` on the turn loop (at once when already there or when no thread runs)."""
        loop = self._loop
        if loop is None or _current_loop() is loop:
            callback(*args)
        else:
            loop.call_soon_threadsafe(callback, *args)


TURNS = TurnThread()


def on_turn_loop(method: F) -> F:
    """Decorate an async method so it always runs on the turn loop, where its session and clients live."""

    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await TURNS.run(method(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


def _serialised(func: Callable[..., T], lock: Any) -> Callable[..., T]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with lock:
            return func(*args, **kwargs)

    return wrapper


def _on_loop(func: Callable[..., Any], home: asyncio.AbstractEventLoop) -> Callable[..., None]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        if _current_loop() is home:
            func(*args, **kwargs)
        else:
            home.call_soon_threadsafe(functools.partial(func, *args, **kwargs))

    return wrapper


def make_rasa_thread_safe(agent: Any) -> None:
    """Serialise what Rasa assumes runs on one thread: lock-store tickets, graph runs, Pika publishes."""
    if agent is None or TURNS.loop is None:
        return
    lock_store = getattr(agent, "lock_store", None)
    if lock_store is not None and not getattr(lock_store, _MARK, False):
        ticket_lock = threading.RLock()  # cleanup() calls finish_serving()
        for name in _LOCK_STORE_METHODS:
            setattr(lock_store, name, _serialised(getattr(lock_store, name), ticket_lock))
        setattr(lock_store, _MARK, True)
    runner = getattr(getattr(agent, "processor", None), "graph_runner", None)
    runner_class = type(runner)
    if runner is not None and not runner_class.__dict__.get(_MARK, False):
        # On the class, so that a model loaded later through the HTTP API is covered as well.
        runner_class.run = _serialised(runner_class.run, _GRAPH_LOCK)  # type: ignore[attr-defined]
        setattr(runner_class, _MARK, True)
    broker = getattr(getattr(agent, "tracker_store", None), "event_broker", None)
    if broker is not None and not getattr(broker, _MARK, False):
        from rasa.core.brokers.pika import PikaEventBroker  # lazy: only when a broker is configured

        if isinstance(broker, PikaEventBroker):
            broker.publish = _on_loop(broker.publish, broker._loop)  # type: ignore[method-assign]
        setattr(broker, _MARK, True)


_prepared = False
WARM_UP_TEXT = "xin chào"


async def prepare_process(agent: Any) -> None:
    """Once per process, before traffic: warm the model up, then move every object alive by then out of the
    cyclic garbage collector's reach.

    The first parse imports the word segmenter (and torch with it) and traces TensorFlow functions, about
    200,000 objects; better at start-up than in a citizen's turn. Then ``gc.freeze``: a full collection walked
    the ~1,100,000 start-up objects and paused every thread, the webhook's included, for 0.5-1 s on this
    hardware; now it walks only what was created since. Frozen objects are still freed by reference counting;
    only reference cycles among them would stay (a model replaced through the HTTP API)."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    make_rasa_thread_safe(agent)
    try:
        await TURNS.run(agent.parse_message(WARM_UP_TEXT))
    except Exception:
        logger.warning("model warm-up failed", exc_info=True)
    gc.collect()  # once, at start-up: the garbage collected now is not frozen with the rest
    gc.freeze()
    logger.info("%d start-up objects moved out of the garbage collector's reach", gc.get_freeze_count())


class TurnChannel(Protocol):
    """What attach_turns needs from a channel."""

    queue: Any

    def name(self) -> str:
        """Channel name."""

    async def aclose(self) -> None:
        """Release the channel's resources."""


def attach_turns(bp: Blueprint, channel: TurnChannel) -> None:
    """Run ``channel``'s turns on the turn thread, started with the server; at shutdown new deliveries
    get 503, queued turns finish (within CONNECTOR_DRAIN_SECONDS), then resources are released."""

    @bp.middleware("request")
    async def before_delivery(request: Request) -> Optional[HTTPResponse]:
        if request.method != "POST":
            return None
        if channel.queue.closed:
            # Not acknowledged: the platform delivers it again (after the restart, or to another server).
            return response.text("shutting down", status=503)
        # Per request rather than once: a model loaded through the HTTP API brings a new agent.
        make_rasa_thread_safe(getattr(request.app.ctx, "agent", None))
        return None

    @bp.listener("before_server_start")
    async def start_turns(*_: Any) -> None:
        install_fault_handling()
        mark_stopping(False)
        TURNS.acquire()
        channel.queue.closed = False

    @bp.listener("after_server_start")
    async def prepare(app: Any, *_: Any) -> None:
        agent = getattr(app.ctx, "agent", None)
        if agent is not None:  # a Rasa server, with its model loaded (not the connector tests)
            await prepare_process(agent)

    # before_server_stop, not after: Sanic runs shutdown listeners in reverse order, so Rasa's close_resources
    # (event broker) would run before ours in after_server_stop, while queued turns still need it.
    @bp.listener("before_server_stop")
    async def finish_turns(*_: Any) -> None:
        mark_stopping()  # at once: the load balancer must stop sending here while the queued turns finish
        channel.queue.closed = True
        try:
            await channel.queue.drain(float(os.environ.get("CONNECTOR_DRAIN_SECONDS", "10")))
        except Exception:
            logger.warning("%s: queued turns still running at shutdown", channel.name())
        try:
            await channel.aclose()
        finally:
            await TURNS.release()
