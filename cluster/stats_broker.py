"""A Rasa event broker that keeps the dashboard's statistics (issue 16) without slowing a citizen's turn.

Rasa calls ``publish`` for every new tracker event from inside the turn. Here it only turns the event into the
few fields statistics need (onestop.stats.events.rows_from_event: hashed sender, channel, intent and action
names, procedure/aspect slot values - never a message text) and appends them to a bounded in-memory queue; a
background thread writes the queue to the application database in batches. When the database is down the rows
wait in the queue; past its bound the oldest are dropped and counted (``dropped``). Nothing here raises into
Rasa. Registered in bot/endpoints.yml by module path::

    event_broker:
      type: cluster.stats_broker.StatsEventBroker
      max_queue: 10000       # rows held while the database is slow or down; the oldest dropped past it
      batch_size: 500        # rows per INSERT transaction
      flush_seconds: 2       # how often the writer wakes up
"""
from __future__ import annotations

import asyncio
import logging
import threading
from asyncio import AbstractEventLoop
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Text, Tuple

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from infra.metrics import registry
from infra.retry import RetryPolicy
from onestop.stats import events as stats

log = logging.getLogger(__name__)


class StatsEventBroker(EventBroker):
    """Statistics rows of Rasa's events, queued in memory and written to SQL by a background thread."""

    def __init__(self, url: Optional[str] = None, max_queue: int = 10000, batch_size: int = 500,
                 flush_seconds: float = 2.0, max_senders: int = 10000,
                 retry: Optional[RetryPolicy] = None) -> None:
        self.url = url
        self.max_queue = max(1, int(max_queue))
        self.batch_size = max(1, int(batch_size))
        self.flush_seconds = max(0.01, float(flush_seconds))
        self.retry = retry or RetryPolicy(max_attempts=1_000_000, base_delay=1.0, max_delay=60.0)
        self.senders = stats.SenderState(int(max_senders))
        self.dropped = 0          # rows lost: queue full while the database was down, or an unreadable event
        self.written = 0
        self.failures = 0         # failed writes (each retried later)
        self._queue: Deque[Dict[str, Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: Optional[AbstractEventLoop] = None) -> "StatsEventBroker":
        """The broker of the ``event_broker:`` section (optional url, max_queue, batch_size, flush_seconds)."""
        kwargs = dict(broker_config.kwargs or {}) if broker_config else {}
        known = {k: kwargs[k] for k in ("max_queue", "batch_size", "flush_seconds", "max_senders") if k in kwargs}
        broker = cls(url=getattr(broker_config, "url", None) or None, **known)
        broker.start()
        registry().add_collector(lambda: samples(broker))
        return broker

    # -------------------------------------------------------------------------------------------- the turn side
    def publish(self, event: Dict[Text, Any]) -> None:
        """Queue the statistics rows of one event (never blocks on I/O, never raises)."""
        try:
            rows = stats.rows_from_event(event, self.senders)
        except Exception:  # an event shape we do not know must not break the turn
            self.dropped += 1
            log.warning("stats broker: unreadable event of type %r", type(event).__name__)
            return
        if not rows:
            return
        with self._lock:
            for row in rows:
                if len(self._queue) >= self.max_queue:
                    self._queue.popleft()
                    self.dropped += 1
                self._queue.append(row)
            full_batch = len(self._queue) >= self.batch_size
        if full_batch:
            self._wake.set()

    def is_ready(self) -> bool:
        """Ready once the writer thread runs (publish works before too: rows wait in the queue)."""
        return self._thread is not None and self._thread.is_alive()

    async def close(self) -> None:
        """Stop the writer after a last flush (off the event loop)."""
        await asyncio.to_thread(self.stop)

    # -------------------------------------------------------------------------------------------- the writer
    def start(self) -> None:
        """Start the background writer (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stats-broker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Flush what is queued (one try) and stop the writer."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def pending(self) -> int:
        """Rows waiting in the queue."""
        with self._lock:
            return len(self._queue)

    def flush(self) -> bool:
        """Write every queued row now, batch by batch; False when the database refused (rows kept, in order)."""
        while True:
            with self._lock:
                batch: List[Dict[str, Any]] = [self._queue.popleft()
                                               for _ in range(min(self.batch_size, len(self._queue)))]
            if not batch:
                return True
            try:
                stats.write_rows(batch, self.url)
            except Exception as exc:
                self.failures += 1
                log.warning("stats broker: writing %d rows failed (%s); %d queued, %d dropped so far",
                            len(batch), type(exc).__name__, self.pending() + len(batch), self.dropped)
                self._put_back(batch)
                return False
            self.written += len(batch)

    def _put_back(self, batch: List[Dict[str, Any]]) -> None:
        """Return a failed batch to the front of the queue; what no longer fits (the oldest) is dropped."""
        with self._lock:
            room = self.max_queue - len(self._queue)
            keep = batch[len(batch) - room:] if room < len(batch) else batch
            self.dropped += len(batch) - len(keep)
            self._queue.extendleft(reversed(keep))

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            if self.flush():
                attempt = 0
                continue
            attempt += 1
            self._stop.wait(self.retry.delay(attempt))   # the database is down: back off, rows keep queuing
        self.flush()


def samples(broker: StatsEventBroker) -> List[Tuple[str, str, str, Dict[str, str], float]]:
    """Prometheus samples of a broker (for infra.metrics collectors): written, dropped, queued."""
    return [("assistant_stats_rows_written", "counter", "Statistics rows written.", {}, float(broker.written)),
            ("assistant_stats_rows_dropped", "counter", "Statistics rows dropped.", {}, float(broker.dropped)),
            ("assistant_stats_rows_queued", "gauge", "Statistics rows waiting.", {}, float(broker.pending()))]

