"""Shared fixtures: the repository paths and one Rasa model trained on the real data per test run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def rasa_env() -> dict:
    """Environment for Rasa subprocesses: repo on the path, quiet TensorFlow."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the full model (NLU + dialogue) on bot/ once per test run, in a temporary folder."""
    out = tmp_path_factory.mktemp("model")
    cmd = [PYTHON, "-m", "rasa", "train", "--config", str(REPO / "config.yml"), "--domain",
           str(REPO / "bot" / "domain"), "--data", str(REPO / "bot" / "data"), "--out", str(out),
           "--fixed-model-name", "test-model"]
    result = subprocess.run(cmd, cwd=REPO, env=rasa_env(), capture_output=True, text=True)
    model = out / "test-model.tar.gz"
    if result.returncode != 0 or not model.exists():
        pytest.fail(f"rasa train failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return model
