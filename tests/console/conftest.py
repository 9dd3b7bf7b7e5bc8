"""Fixtures of the console tests: a copy of the real knowledge base and its index per test, a fresh SQLite
database, two officers (an editor and a viewer), the console app and a signed-in client."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from infra import db
from knowledge import client as kc
from knowledge.config import PACKAGE_DIR, load_config

from .helpers import EDITOR, EDITOR2, VIEWER, sign_in


@pytest.fixture(scope="session")
def real_index() -> Path:
    """The repository's index, built first when missing or stale (a fresh CI machine)."""
    from knowledge.search import Searcher

    cfg = load_config({})
    Searcher(cfg).dense_index()
    return cfg.index_dir


@pytest.fixture(scope="session")
def shared_embedder(real_index):
    """The e5 model, loaded once for every console test."""
    from knowledge.embeddings import Embedder

    embedder = Embedder.from_config(load_config({}))
    embedder.embed_query("khởi động")
    return embedder


@pytest.fixture
def kb_copy(tmp_path: Path, real_index: Path) -> Path:
    """A private copy of the knowledge folder (procedures, offices, holidays, index) named like the real one."""
    kb = tmp_path / "knowledge"
    kb.mkdir()
    shutil.copytree(PACKAGE_DIR / "procedures", kb / "procedures")
    for name in ("offices.yml", "holidays.yml"):
        shutil.copyfile(PACKAGE_DIR / name, kb / name)
    shutil.copytree(real_index, kb / "index")
    return kb


@pytest.fixture
def console_env(tmp_path: Path, kb_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, Any]]:
    """A fresh database and the copied knowledge folder for this test (also for the searcher)."""
    from console import store

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))
    # The test clients speak plain HTTP: Secure cookies (the default) would never come back.
    monkeypatch.setenv("CONSOLE_SECURE_COOKIES", "0")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("KB_DIR", str(kb_copy))
    monkeypatch.setenv("KB_INDEX_DIR", str(kb_copy / "index"))
    monkeypatch.setenv("KB_RELOAD_CHECK_SECONDS", "0.2")
    db.dispose_all()
    store._ready.clear()
    kc.reload()
    for account in (EDITOR, EDITOR2, VIEWER):
        store.add_user(account["username"], account["password"], account["role"], account["display_name"])
    yield {"kb": kb_copy, "cfg": load_config()}
    kc.wait_for_reload()
    kc.reload()
    db.dispose_all()
    store._ready.clear()


@pytest.fixture
def searcher_ready(console_env, shared_embedder):
    """The action server's searcher on the copied knowledge base, reusing the loaded model."""
    from knowledge.search import Searcher

    kc.install(Searcher(console_env["cfg"], embedder=shared_embedder).prepare())
    return kc.searcher()


@pytest.fixture
async def app(console_env):
    """The console application on the copied knowledge base."""
    from console.app import create_app

    return create_app(console_env["cfg"], rasa_url="http://127.0.0.1:9", rasa_token=None)


@pytest.fixture
async def anon(app) -> AsyncIterator[TestClient]:
    """A client that has not signed in."""
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def editor(app) -> AsyncIterator[TestClient]:
    """A client signed in as an editor (``client.csrf`` holds the form token)."""
    async with TestClient(TestServer(app)) as client:
        client.csrf = await sign_in(client, EDITOR)  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def viewer(app) -> AsyncIterator[TestClient]:
    """A client signed in as a viewer."""
    async with TestClient(TestServer(app)) as client:
        client.csrf = await sign_in(client, VIEWER)  # type: ignore[attr-defined]
        yield client
