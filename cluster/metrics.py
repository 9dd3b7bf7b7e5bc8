"""Process-wide counters and histograms rendered in the Prometheus text format (no client library needed).

Connectors count messages in and out, send failures and message-to-reply latency; the lock store and the database
are read when the page is scraped (collectors), so nothing is counted twice.
"""
from __future__ import annotations

import bisect
import math
import threading
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

Labels = Tuple[Tuple[str, str], ...]
DEFAULT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def _labels(labels: Dict[str, str]) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


def _fmt_labels(labels: Labels, extra: Optional[Tuple[str, str]] = None) -> str:
    items = list(labels) + ([extra] if extra else [])
    if not items:
        return ""
    body = ",".join(f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in items)
    return "{" + body + "}"


def _num(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    """A monotonically increasing value per label set."""

    def __init__(self, name: str, help_text: str) -> None:
        self.name, self.help = name, help_text
        self._values: Dict[Labels, float] = {}
        self._lock = threading.Lock()

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` for these labels."""
        key = _labels(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value for these labels (tests)."""
        return self._values.get(_labels(labels), 0.0)

    def render(self) -> List[str]:
        """Exposition lines."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            lines += [f"{self.name}{_fmt_labels(k)} {_num(v)}" for k, v in sorted(self._values.items())]
        return lines


class Histogram:
    """Observations counted into cumulative buckets, per label set."""

    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        self.name, self.help = name, help_text
        self.buckets = tuple(sorted(buckets))
        self._data: Dict[Labels, Tuple[List[int], float, int]] = {}
        self._lock = threading.Lock()

    def observe(self, value: float, **labels: str) -> None:
        """Record one observation."""
        key = _labels(labels)
        with self._lock:
            counts, total, n = self._data.get(key, ([0] * len(self.buckets), 0.0, 0))
            i = bisect.bisect_left(self.buckets, value)
            if i < len(counts):
                counts[i] += 1
            self._data[key] = (counts, total + value, n + 1)

    def render(self) -> List[str]:
        """Exposition lines (cumulative buckets, sum, count)."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self._lock:
            for key, (counts, total, n) in sorted(self._data.items()):
                running = 0
                for bound, c in zip(self.buckets, counts):
                    running += c
                    lines.append(f"{self.name}_bucket{_fmt_labels(key, ('le', _num(bound)))} {running}")
                lines.append(f"{self.name}_bucket{_fmt_labels(key, ('le', '+Inf'))} {n}")
                lines.append(f"{self.name}_sum{_fmt_labels(key)} {_num(total)}")
                lines.append(f"{self.name}_count{_fmt_labels(key)} {n}")
        return lines


Collector = Callable[[], Iterable[Tuple[str, str, str, Dict[str, str], float]]]  # name, type, help, labels, value


class Registry:
    """The metrics of this process."""

    def __init__(self) -> None:
        self.messages_in = Counter("assistant_messages_in_total", "Citizen messages accepted by a connector.")
        self.messages_out = Counter("assistant_messages_out_total", "Messages sent to citizens.")
        self.send_failures = Counter("assistant_send_failures_total", "Send API calls that failed, by kind.")
        self.duplicates = Counter("assistant_duplicate_deliveries_total", "Platform redeliveries ignored.")
        self.turn_seconds = Histogram("assistant_turn_seconds", "Message received to last reply sent.")
        self._collectors: List[Collector] = []

    def add_collector(self, collector: Collector) -> None:
        """Values read at scrape time (lock waits, unanswered questions)."""
        self._collectors.append(collector)

    def render(self) -> str:
        """The whole page."""
        lines: List[str] = []
        for metric in (self.messages_in, self.messages_out, self.send_failures, self.duplicates, self.turn_seconds):
            lines += metric.render()
        seen = set()
        for collector in self._collectors:
            try:
                samples = list(collector())
            except Exception as exc:  # one broken source must not hide the others
                lines.append(f"# collector failed: {type(exc).__name__}")
                continue
            for name, kind, help_text, labels, value in samples:
                if name not in seen:
                    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
                    seen.add(name)
                lines.append(f"{name}{_fmt_labels(_labels(labels))} {_num(value)}")
        return "\n".join(lines) + "\n"


_registry: Optional[Registry] = None
_registry_lock = threading.Lock()


def registry() -> Registry:
    """The process-wide registry (created on first use)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry
