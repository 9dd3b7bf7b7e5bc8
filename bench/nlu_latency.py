"""NLU parse latency: our pipeline vs Rasa's default pipeline, in the same run, interleaved.

Usage: python bench/nlu_latency.py [--messages 1000] [--train-full]
Models come from results/nlu-eval (made by `make eval-nlu`); missing ones are trained first.
--train-full also times `rasa train` of the full model (NLU + dialogue) from scratch.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu import evaluate  # noqa: E402  (after the path tweak: run as a script)


def percentile(values: List[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def messages(n: int) -> List[str]:
    """n realistic messages: the dev set's texts cycled, plus long and odd ones."""
    dev = ROOT.parent / "shared" / "eval" / "dev" / "nlu.yml"
    texts = [ex.text for ex in evaluate.load_examples(dev)] if dev.exists() else ["làm giấy khai sinh cần gì"]
    extra = ["", "😀😀", "a" * 2000, "tra cứu hồ sơ 000.00.11.H26-241115-0007 giúp em với ạ " * 5]
    pool = texts + extra
    return [pool[i % len(pool)] for i in range(n)]


async def run(models: Dict[str, Path], msgs: List[str]) -> Dict[str, List[float]]:
    """Parse every message with every model, alternating models so both see the same machine load."""
    from rasa.core.agent import Agent

    evaluate.quiet_rasa()
    agents = {name: Agent.load(str(path)) for name, path in models.items()}
    for agent in agents.values():  # warm-up: first calls build TensorFlow graphs
        for text in msgs[:20]:
            await agent.parse_message(text)
    timings: Dict[str, List[float]] = {name: [] for name in agents}
    for text in msgs:
        for name, agent in agents.items():
            start = time.perf_counter()
            await agent.parse_message(text)
            timings[name].append((time.perf_counter() - start) * 1000)
    return timings


def train_full() -> float:
    """Seconds to train the full model (NLU + dialogue) from scratch."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rasa", "train", "--config", "config.yml", "--domain", "bot/domain",
                        "--data", "bot/data", "--out", out, "--force", "--quiet"], cwd=ROOT, env=env, check=True)
        return time.perf_counter() - start


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "results" / "nlu-eval"))
    parser.add_argument("--train-full", action="store_true")
    args = parser.parse_args()

    out = Path(args.out)
    models = {}
    for name, config in evaluate.PIPELINES.items():
        path = out / f"{name}.tar.gz"
        if not path.exists():
            path, _ = evaluate.train(config, out, name)
        models[name] = path
    msgs = messages(args.messages)
    timings = asyncio.run(run(models, msgs))
    print(f"\nNLU parse latency over {len(msgs)} messages (ms), interleaved, this machine:")
    print(f"{'pipeline':16}{'p50':>8}{'p95':>8}{'p99':>8}{'mean':>8}")
    for name, values in timings.items():
        print(f"{name:16}{percentile(values, 50):8.1f}{percentile(values, 95):8.1f}"
              f"{percentile(values, 99):8.1f}{statistics.mean(values):8.1f}")
    if args.train_full:
        print(f"\nfull model training (NLU + dialogue, from scratch): {train_full():.0f} s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
