"""Fixtures shared by the action tests: a private application database, the real knowledge search loaded once."""
from __future__ import annotations

import pytest

from infra import db
from knowledge import client as kc


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A fresh SQLite application database for one test (hand-offs, unanswered questions, feedback...)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))
    db.dispose_all()
    yield tmp_path / "app.sqlite"
    db.dispose_all()


@pytest.fixture(scope="module")
def loaded_search():
    """The real index and embedding model, loaded once per module."""
    assert kc.warm_up() is not None, "knowledge search could not be loaded"
