"""Conversation tests (tests/stories, Rasa's test-story format) on a model trained on the real data."""
from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REPO, rasa_env

pytestmark = pytest.mark.slow


def test_stories_pass_without_prediction_errors(trained_model: Path, tmp_path: Path) -> None:
    """Every test story is predicted exactly: intents, entities and actions."""
    out = tmp_path / "results"
    cmd = [PYTHON, "-m", "rasa", "test", "core", "--model", str(trained_model), "--stories",
           str(REPO / "tests" / "stories"), "--out", str(out), "--fail-on-prediction-errors"]
    result = subprocess.run(cmd, cwd=REPO, env=rasa_env(), capture_output=True, text=True)
    failed = out / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, f"{details}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def test_there_are_at_least_thirty_stories() -> None:
    """The issue asks for at least 30 conversation tests."""
    count = sum(p.read_text(encoding="utf-8").count("- story:") for p in (REPO / "tests" / "stories").glob("*.yml"))
    assert count >= 30


def _story_messages():
    """(story, marked-up text, intent) of every user turn with text in tests/stories."""
    import yaml

    out = []
    for path in sorted((REPO / "tests" / "stories").glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            for step in story["steps"]:
                text = (step.get("user") or "").strip()
                if text and not text.startswith("/"):
                    out.append((story["story"], text, step["intent"]))
    return out


MAX_MISREAD_STORY_MESSAGES = 1


def test_story_messages_are_understood(trained_model: Path) -> None:
    """`rasa test core` replays the labelled intents; this checks the model reads the story texts the same way."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.entities_parser import find_entities_in_training_example, replace_entities

    from nlu.evaluate import quiet_rasa

    quiet_rasa()
    agent = Agent.load(str(trained_model))
    wrong = []
    for story, marked, intent in _story_messages():
        text = replace_entities(marked)
        gold = {(e["start"], e["end"], e["entity"]) for e in find_entities_in_training_example(marked)}
        parsed = asyncio.run(agent.parse_message(text))
        got = {(e["start"], e["end"], e["entity"]) for e in parsed["entities"]}
        if parsed["intent"]["name"] != intent or got != gold:
            wrong.append(f"{story}: {text!r} -> {parsed['intent']['name']} {sorted(got)} (want {intent} {sorted(gold)})")
    # Retraining the same data on these 2 cores does not give the same DIET weights every time (three trainings
    # of one data set each misread a different single story message, all borderline). One misreading is reported,
    # more fail: a data change that really breaks the stories moves several of them.
    if wrong:
        warnings.warn("story messages the model reads differently:\n" + "\n".join(wrong))
    assert len(wrong) <= MAX_MISREAD_STORY_MESSAGES, "\n".join(wrong)
