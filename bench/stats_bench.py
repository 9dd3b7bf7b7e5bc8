"""Statistics benchmark: what the event broker costs a citizen's turn, and how long the dashboard takes to compute.

Run from the repository root: `.venv/bin/python bench/stats_bench.py [--turns N] [--days D]`.

1. ``StatsEventBroker.publish`` p50/p95/max per event while its writer thread writes batches to a SQLite file
   (the turn's side: the cost Rasa pays inside the turn), and the rows written at the end (none lost).
2. What configuring any event broker costs Rasa itself: its tracker store then reads the stored conversation back
   on every save to find the new events (``TrackerStore.stream_events``). The masked in-memory store's ``save``
   is timed without and with this broker, for conversations of 10 and 50 turns.
3. ``onestop.stats.dashboard.dashboard`` over ``--days`` days of synthetic activity (``--turns`` turns per day, five
   events each), for the whole range and for one week: the console's side, never in a turn.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pct(values: List[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def turn(sender: str, ts: float, rng: random.Random) -> List[Dict[str, Any]]:
    """The events Rasa publishes for one answered question."""
    channel = rng.choice(("zalo", "zalo", "messenger", "rest"))
    return [
        {"sender_id": sender, "event": "user", "timestamp": ts, "text": "cho hỏi làm căn cước cần giấy tờ gì",
         "input_channel": channel, "parse_data": {"intent": {"name": "ask_procedure", "confidence": 0.9}}},
        {"sender_id": sender, "event": "action", "timestamp": ts + 0.1, "name": "action_answer_procedure"},
        {"sender_id": sender, "event": "bot", "timestamp": ts + 0.2, "text": "Dạ, ..."},
        {"sender_id": sender, "event": "slot", "timestamp": ts + 0.2, "name": "procedure_key",
         "value": rng.choice(("cap_can_cuoc", "dang_ky_khai_sinh", "chung_thuc_ban_sao", "dang_ky_ket_hon"))},
        {"sender_id": sender, "event": "slot", "timestamp": ts + 0.2, "name": "aspect",
         "value": rng.choice(("documents", "fee", "time", "place"))},
        {"sender_id": sender, "event": "action", "timestamp": ts + 0.3, "name": "action_listen"},
    ]


def store_save_ms(with_broker: bool, turns: int, repeat: int = 20) -> float:
    """Mean milliseconds of one ``save`` of a conversation of ``turns`` turns plus one new turn."""
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from cluster.stats_broker import StatsEventBroker
    from privacy.tracker_store import MaskingInMemoryTrackerStore

    def events(n: int) -> list:
        out = []
        for _ in range(n):
            out += [UserUttered("cho hỏi làm căn cước cần giấy tờ gì ạ", {"name": "ask_procedure", "confidence": 0.9},
                                input_channel="zalo"), ActionExecuted("action_answer_procedure"),
                    BotUttered("Dạ, anh/chị cần chuẩn bị các giấy tờ sau ..."), SlotSet("procedure_key", "cap_can_cuoc"),
                    ActionExecuted("action_listen")]
        return out

    async def run() -> float:
        store = MaskingInMemoryTrackerStore(Domain.empty(), event_broker=StatsEventBroker() if with_broker else None)
        tracker = DialogueStateTracker.from_events("zalo-1", [ActionExecuted("action_listen")] + events(turns))
        await store.save(tracker)
        for event in events(1):
            tracker.update(event)
        start = time.perf_counter()
        for _ in range(repeat):
            await store.save(tracker)
        return (time.perf_counter() - start) / repeat * 1000

    return asyncio.run(run())


def main() -> None:
    """Run both parts and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000, help="turns per day")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stats-bench-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ["APP_DB_PATH"] = str(work / "app.sqlite")

    from cluster.stats_broker import StatsEventBroker
    from infra.clock import now_local
    from onestop.stats import dashboard
    from onestop.stats.period import Filters

    rng = random.Random(16)
    # A queue as long as the whole run: this measures the turn's cost and the writer's pace, not the bound (the
    # run publishes a month of events in seconds, far faster than any real traffic).
    broker = StatsEventBroker(flush_seconds=0.5, max_queue=args.turns * args.days * 5)
    broker.start()
    end = now_local().date()
    first = dt.datetime.combine(end - dt.timedelta(days=args.days - 1), dt.time(8)).timestamp()
    costs: List[float] = []
    for day in range(args.days):
        for i in range(args.turns):
            ts = first + day * 86400 + i * (9 * 3600 / args.turns)
            for event in turn(f"zalo-{rng.randrange(args.turns * 3)}", ts, rng):
                start = time.perf_counter()
                broker.publish(event)
                costs.append(time.perf_counter() - start)
    queued_at = time.perf_counter()
    broker.stop(timeout=600)
    drained = time.perf_counter() - queued_at
    print(f"publish: {len(costs)} events, p50 {pct(costs, 0.5) * 1e6:.1f} us, p95 {pct(costs, 0.95) * 1e6:.1f} us, "
          f"max {max(costs) * 1e3:.2f} ms; rows written {broker.written}, dropped {broker.dropped}, the last "
          f"ones {drained:.1f} s after the last publish")
    for turns in (10, 50):
        print(f"tracker store save, {turns} turns: {store_save_ms(False, turns):.1f} ms without an event broker, "
              f"{store_save_ms(True, turns):.1f} ms with this one")
    for label, days in (("whole range", args.days), ("one week", 7)):
        f = Filters(end - dt.timedelta(days=days - 1), end)
        start = time.perf_counter()
        dashboard.dashboard(f)
        print(f"dashboard ({label}, {days} days): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
