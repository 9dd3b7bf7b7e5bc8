"""Process-wide Prometheus metrics (prometheus_client), on a registry of this process's own.

Connectors count messages in and out, send failures and message-to-reply latency; the lock store and the database
are read when the page is scraped (collectors), so nothing is counted twice.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

log = logging.getLogger(__name__)
DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

# A sample read at scrape time: name, type ("counter" or "gauge"), help, labels, value.
Sample = Tuple[str, str, str, Dict[str, str], float]
Collector = Callable[[], Iterable[Sample]]


class _ScrapeTimeCollector:
    """Turns the registered sample functions into metric families when the page is scraped."""

    def __init__(self) -> None:
        self._sources: List[Collector] = []
        self._lock = threading.Lock()

    def add(self, source: Collector) -> None:
        """Register one more sample function."""
        with self._lock:
            self._sources.append(source)

    def collect(self) -> Iterator[Metric]:
        """Metric families from every source; one broken source does not hide the others."""
        with self._lock:
            sources = list(self._sources)
        families: Dict[str, Metric] = {}
        for source in sources:
            try:
                samples = list(source())
            except Exception as exc:
                log.warning("metrics collector failed: %s", type(exc).__name__)
                continue
            for name, kind, help_text, labels, value in samples:
                family = families.get(name)
                if family is None:
                    cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                    family = families[name] = cls(name, help_text, labels=sorted(labels))
                family.add_metric([str(labels[k]) for k in sorted(labels)], value)
        yield from families.values()


class Registry:
    """The metrics of this process."""

    def __init__(self) -> None:
        self.prometheus = CollectorRegistry(auto_describe=False)
        self.messages_in = Counter("assistant_messages_in", "Citizen messages accepted by a connector.",
                                   ["channel"], registry=self.prometheus)
        self.messages_out = Counter("assistant_messages_out", "Messages sent to citizens.",
                                    ["channel"], registry=self.prometheus)
        self.send_failures = Counter("assistant_send_failures", "Send API calls that failed, by kind.",
                                     ["channel", "code"], registry=self.prometheus)
        self.duplicates = Counter("assistant_duplicate_deliveries", "Platform redeliveries ignored.",
                                  ["channel"], registry=self.prometheus)
        self.turn_seconds = Histogram("assistant_turn_seconds", "Message received to last reply sent.",
                                      ["channel"], buckets=DEFAULT_BUCKETS, registry=self.prometheus)
        self._scraped = _ScrapeTimeCollector()
        self.prometheus.register(self._scraped)

    def add_collector(self, collector: Collector) -> None:
        """Values read at scrape time (lock waits, unanswered questions)."""
        self._scraped.add(collector)

    def render(self) -> str:
        """The whole page in the Prometheus text format."""
        return prometheus_client.generate_latest(self.prometheus).decode("utf-8")


_registry: Optional[Registry] = None
_registry_lock = threading.Lock()


def registry() -> Registry:
    """The process-wide registry (created on first use)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            prometheus_client.disable_created_metrics()  # *_created series only add noise to these dashboards
            _registry = Registry()
        return _registry
