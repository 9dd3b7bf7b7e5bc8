"""Intent distribution of a trained model on a JSONL file of questions (e.g. catalogue_edge.jsonl).

Usage: python bench/nlu_intents.py MODEL.tar.gz FILE.jsonl [FILE.jsonl ...] [--expect ask_procedure] [--show 20]
Reads the question under "q" or "question". Reports, for all questions and separately for formal ones (written
with diacritics and at least 12 words: how citizens and businesses write to the portal) and chat-style ones, the
share of each predicted intent and of the expected intent; lists the formal questions that missed it.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FORMAL_MIN_WORDS = 12


def is_formal(text: str) -> bool:
    """Written with diacritics and long: the portal's formal style (chat style is short and unaccented)."""
    from vntext.textnorm import canonical_words, has_diacritics

    return has_diacritics(text) and len(canonical_words(text)) >= FORMAL_MIN_WORDS


def read_questions(paths: Sequence[str]) -> List[str]:
    """Questions of the JSONL files, in order."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(row["q"] if "q" in row else row["question"])
    return out


async def classify(model: str, texts: Sequence[str]) -> List[Tuple[str, float]]:
    """(intent, confidence) of each text by the model."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        out.append((intent.get("name") or "", float(intent.get("confidence") or 0.0)))
    return out


def report(label: str, intents: Sequence[str], expect: str) -> str:
    """One line: count, share of the expected intent, and the distribution."""
    if not intents:
        return f"{label:<8} 0 questions"
    counts = Counter(intents)
    dist = ", ".join(f"{k} {v}" for k, v in counts.most_common())
    return f"{label:<8} {len(intents):>4} questions, {expect} {counts[expect] / len(intents):.1%} ({dist})"


def main(argv: Sequence[str] = None) -> int:
    """Parse the arguments, classify, print the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--expect", default="ask_procedure")
    parser.add_argument("--show", type=int, default=20, help="list up to N formal questions that missed")
    args = parser.parse_args(argv)
    from nlu.evaluate import quiet_rasa

    quiet_rasa()
    texts = read_questions(args.files)
    preds = asyncio.run(classify(args.model, texts))
    groups: Dict[str, List[str]] = {"all": [], "formal": [], "chat": []}
    misses = []
    for text, (intent, conf) in zip(texts, preds):
        groups["all"].append(intent)
        groups["formal" if is_formal(text) else "chat"].append(intent)
        if is_formal(text) and intent != args.expect:
            misses.append((intent, conf, text))
    for label, intents in groups.items():
        print(report(label, intents, args.expect))
    for intent, conf, text in misses[: args.show]:
        print(f"  {intent} {conf:.2f} | {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
