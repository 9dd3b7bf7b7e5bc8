"""Command lines that scripts, evaluations and officers already call keep working at their old names."""
from __future__ import annotations

import subprocess

from tests.conftest import PYTHON, REPO


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_the_dossier_command_answers_at_its_old_name():
    old, new = _run("actions.dossiers", "codes"), _run("onestop.dossiers", "codes")
    assert old.returncode == new.returncode == 0
    assert old.stdout == new.stdout and "processing" in old.stdout


def test_the_handoff_and_appointment_commands_answer_at_their_old_names():
    assert _run("actions.handoff", "--help").returncode == 0
    assert "onestop.handoffs" in _run("actions.handoff", "--help").stdout
    assert _run("actions.appointments", "--help").returncode == 0
