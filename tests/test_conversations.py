"""Conversation tests (tests/stories, Rasa's test-story format) on a model trained on the real data."""
from __future__ import annotations

import subprocess
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
