"""Train and evaluate our NLU pipeline against Rasa's default pipeline on the same data, in one run.

Usage: python -m nlu.evaluate --dev ../shared/eval/dev/nlu.yml [--out results/nlu-eval]
Prints, per pipeline: training time, intent accuracy and macro-F1 (overall, with and without diacritics), and
entity precision/recall/F1 per entity type (exact span and type).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
PIPELINES = {
    "ours": ROOT / "config.yml",
    "rasa_default": ROOT / "nlu" / "configs" / "rasa_default.yml",
}


@dataclass
class Example:
    """One evaluation message with its gold intent and entity spans."""

    text: str
    intent: str
    entities: List[Tuple[int, int, str]]


@dataclass
class Prediction:
    """What a pipeline returned for one message."""

    intent: str
    entities: List[Tuple[int, int, str]]
    seconds: float = 0.0


@dataclass
class Report:
    """Metrics of one pipeline."""

    name: str
    train_seconds: float
    intent: Dict[str, Dict[str, float]] = field(default_factory=dict)
    entities: Dict[str, Dict[str, float]] = field(default_factory=dict)
    errors: List[Dict[str, Any]] = field(default_factory=list)


def load_examples(path: Path) -> List[Example]:
    """Read a Rasa NLU YAML file into examples with gold spans."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = []
    for msg in data.intent_examples:
        spans = [(e["start"], e["end"], e["entity"]) for e in msg.get("entities") or []]
        examples.append(Example(text=msg.get("text"), intent=msg.get("intent"), entities=spans))
    return examples


def train(config: Path, out_dir: Path, name: str) -> Tuple[Path, float]:
    """Train an NLU-only model with ``config`` on bot/data/nlu; return (model path, seconds)."""
    from rasa.model_training import train_nlu

    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model = train_nlu(
        config=str(config),
        nlu_data=str(ROOT / "bot" / "data" / "nlu"),
        output=str(out_dir),
        fixed_model_name=name,
        domain=str(ROOT / "bot" / "domain"),
    )
    if not model:
        raise SystemExit(f"training {name} failed")
    return Path(model), time.perf_counter() - start


def quiet_rasa() -> None:
    """Keep Rasa's per-message debug lines (structlog) out of the report."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


async def predict(model: Path, examples: Sequence[Example]) -> List[Prediction]:
    """Parse every example with the model at ``model``."""
    from rasa.core.agent import Agent

    quiet_rasa()
    agent = Agent.load(str(model))
    out = []
    for ex in examples:
        start = time.perf_counter()
        parsed = await agent.parse_message(ex.text)
        seconds = time.perf_counter() - start
        ents = [(e["start"], e["end"], e["entity"]) for e in parsed.get("entities", [])]
        out.append(Prediction(intent=(parsed.get("intent") or {}).get("name") or "", entities=ents, seconds=seconds))
    return out


def intent_metrics(gold: Sequence[str], pred: Sequence[str]) -> Dict[str, float]:
    """Accuracy and macro-F1 over the gold labels present."""
    from sklearn.metrics import accuracy_score, f1_score

    if not gold:
        return {"n": 0, "accuracy": float("nan"), "macro_f1": float("nan")}
    labels = sorted(set(gold))
    return {
        "n": len(gold),
        "accuracy": accuracy_score(gold, pred),
        "macro_f1": f1_score(gold, pred, labels=labels, average="macro", zero_division=0),
    }


def entity_metrics(examples: Sequence[Example], preds: Sequence[Prediction]) -> Dict[str, Dict[str, float]]:
    """Per-entity precision/recall/F1 with exact span and type match."""
    tp: Dict[str, int] = defaultdict(int)
    fp: Dict[str, int] = defaultdict(int)
    fn: Dict[str, int] = defaultdict(int)
    for ex, pr in zip(examples, preds):
        gold, got = set(ex.entities), set(pr.entities)
        for s in got & gold:
            tp[s[2]] += 1
        for s in got - gold:
            fp[s[2]] += 1
        for s in gold - got:
            fn[s[2]] += 1
    report = {}
    for ent in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[ent] / (tp[ent] + fp[ent]) if tp[ent] + fp[ent] else 0.0
        r = tp[ent] / (tp[ent] + fn[ent]) if tp[ent] + fn[ent] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        report[ent] = {"support": tp[ent] + fn[ent], "precision": p, "recall": r, "f1": f}
    return report


def evaluate(name: str, train_seconds: float, examples: Sequence[Example], preds: Sequence[Prediction]) -> Report:
    """Compute every metric of one pipeline."""
    from vntext.textnorm import has_diacritics

    rep = Report(name=name, train_seconds=train_seconds)
    groups = {
        "all": list(range(len(examples))),
        "with_diacritics": [i for i, ex in enumerate(examples) if has_diacritics(ex.text)],
        "without_diacritics": [i for i, ex in enumerate(examples) if not has_diacritics(ex.text)],
    }
    for group, idx in groups.items():
        rep.intent[group] = intent_metrics([examples[i].intent for i in idx], [preds[i].intent for i in idx])
    rep.entities = entity_metrics(examples, preds)
    for ex, pr in zip(examples, preds):
        if ex.intent != pr.intent or set(ex.entities) != set(pr.entities):
            rep.errors.append({
                "text": ex.text, "gold_intent": ex.intent, "pred_intent": pr.intent,
                "missed": sorted(set(ex.entities) - set(pr.entities)),
                "extra": sorted(set(pr.entities) - set(ex.entities)),
            })
    return rep


def print_table(reports: Sequence[Report]) -> None:
    """Print the pipelines side by side."""
    names = [r.name for r in reports]
    width = max(16, *(len(n) + 2 for n in names))
    head = f"{'':44}" + "".join(f"{n:>{width}}" for n in names)
    print(head)
    print("-" * len(head))
    print(f"{'training time (s)':44}" + "".join(f"{r.train_seconds:>{width}.1f}" for r in reports))
    for group in ("all", "with_diacritics", "without_diacritics"):
        n = reports[0].intent[group]["n"]
        for metric in ("accuracy", "macro_f1"):
            label = f"intent {metric} [{group}, n={n}]"
            print(f"{label:44}" + "".join(f"{r.intent[group][metric]:>{width}.3f}" for r in reports))
    ents = sorted({e for r in reports for e in r.entities})
    for ent in ents:
        support = max(r.entities.get(ent, {}).get("support", 0) for r in reports)
        cells = []
        for r in reports:
            m = r.entities.get(ent)
            cells.append(f"{m['precision']:.2f}/{m['recall']:.2f}/{m['f1']:.2f}" if m else "-")
        label = f"entity {ent} P/R/F1 (n={support})"
        print(f"{label:44}" + "".join(f"{c:>{width}}" for c in cells))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev", default=str(ROOT.parent / "shared" / "eval" / "dev" / "nlu.yml"))
    parser.add_argument("--out", default=str(ROOT / "results" / "nlu-eval"))
    parser.add_argument("--pipelines", nargs="+", default=list(PIPELINES), choices=list(PIPELINES))
    parser.add_argument("--reuse", action="store_true", help="reuse models already trained in --out")
    args = parser.parse_args(argv)

    out = Path(args.out)
    examples = load_examples(Path(args.dev))
    reports = []
    for name in args.pipelines:
        model = out / f"{name}.tar.gz"
        seconds = float("nan")
        if not (args.reuse and model.exists()):
            print(f"== training {name} ({PIPELINES[name].relative_to(ROOT)})", file=sys.stderr)
            model, seconds = train(PIPELINES[name], out, name)
        preds = asyncio.run(predict(model, examples))
        reports.append(evaluate(name, seconds, examples, preds))
    print(f"\nNLU evaluation on {args.dev} ({len(examples)} messages)\n")
    print_table(reports)
    out.mkdir(parents=True, exist_ok=True)
    for rep in reports:
        (out / f"{rep.name}-errors.json").write_text(json.dumps(rep.errors, ensure_ascii=False, indent=1))
    print(f"\nerrors per pipeline: {out}/<name>-errors.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
