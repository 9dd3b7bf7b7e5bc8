"""The metrics page: prometheus_client counters and histograms, plus values read at scrape time."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from infra.metrics import Registry


def _samples(text: str) -> dict:
    """{(sample name, sorted labels): value} from a rendered page."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_counters_and_histogram_render_with_their_labels() -> None:
    reg = Registry()
    reg.messages_in.labels(channel="zalo").inc()
    reg.messages_in.labels(channel="zalo").inc()
    reg.send_failures.labels(channel="messenger", code="551").inc()
    reg.turn_seconds.labels(channel="zalo").observe(0.3)
    page = _samples(reg.render())
    assert page[("assistant_messages_in_total", (("channel", "zalo"),))] == 2
    assert page[("assistant_send_failures_total", (("channel", "messenger"), ("code", "551")))] == 1
    assert page[("assistant_turn_seconds_bucket", (("channel", "zalo"), ("le", "0.25")))] == 0
    assert page[("assistant_turn_seconds_bucket", (("channel", "zalo"), ("le", "0.5")))] == 1
    assert page[("assistant_turn_seconds_count", (("channel", "zalo"),))] == 1


def test_scrape_time_values_and_a_broken_source() -> None:
    reg = Registry()

    def broken():
        raise RuntimeError("database away")

    reg.add_collector(broken)
    reg.add_collector(lambda: [("assistant_unanswered_total", "counter", "Declines.", {"reason": "declined"}, 7),
                               ("assistant_unanswered_total", "counter", "Declines.", {"reason": "fallback"}, 2)])
    reg.add_collector(lambda: [("assistant_lock_acquired_total", "counter", "Locks.", {}, 5)])
    page = _samples(reg.render())
    assert page[("assistant_unanswered_total", (("reason", "declined"),))] == 7
    assert page[("assistant_unanswered_total", (("reason", "fallback"),))] == 2
    assert page[("assistant_lock_acquired_total", ())] == 5
