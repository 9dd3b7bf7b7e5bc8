"""Shared fixtures: the repository paths and one Rasa model trained on the real data per test run."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@pytest.fixture(scope="session", autouse=True)
def no_imported_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never pick up a national catalogue imported on this machine (var/catalogue): the catalogue tests
    import their own fixture and point KB_CATALOGUE_DIR at it."""
    old = os.environ.get("KB_CATALOGUE_DIR")
    os.environ["KB_CATALOGUE_DIR"] = str(tmp_path_factory.mktemp("no-catalogue"))
    yield
    if old is None:
        os.environ.pop("KB_CATALOGUE_DIR", None)
    else:
        os.environ["KB_CATALOGUE_DIR"] = old


def rasa_env() -> dict:
    """Environment for Rasa subprocesses: repo on the path, quiet TensorFlow."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    return env


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the full model (NLU + dialogue) on bot/ once per test run, in a temporary folder; or use the model
    RASA_TEST_MODEL names (a model trained on this branch's data, to save the training time)."""
    given = os.environ.get("RASA_TEST_MODEL", "")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"RASA_TEST_MODEL={given} is not a file")
        return Path(given)
    out = tmp_path_factory.mktemp("model")
    cmd = [PYTHON, "-m", "rasa", "train", "--config", str(REPO / "config.yml"), "--domain",
           str(REPO / "bot" / "domain"), "--data", str(REPO / "bot" / "data"), "--out", str(out),
           "--fixed-model-name", "test-model"]
    result = subprocess.run(cmd, cwd=REPO, env=rasa_env(), capture_output=True, text=True)
    model = out / "test-model.tar.gz"
    if result.returncode != 0 or not model.exists():
        pytest.fail(f"rasa train failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return model


PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def _pg_reachable() -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_SERVER, future=True, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable yet"
        return False


def _start_pg() -> str:
    versions = sorted(os.path.basename(p) for p in glob.glob("/etc/postgresql/*"))
    if not versions:
        return "no cluster under /etc/postgresql"
    res = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                         capture_output=True, text=True, timeout=60)
    return (res.stdout + res.stderr).strip()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of the local PostgreSQL's database ``test``, started when it is installed but down; else FAIL."""
    if not _pg_reachable():
        output = _start_pg()
        if not _pg_reachable():
            pytest.fail("PostgreSQL is required for these tests: nothing usable answers on 127.0.0.1:5432 "
                        f"(user postgres, database test), and starting it failed: {output}")
    return PG_SERVER


def _redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def free_port() -> int:
    """A TCP port nobody listens on right now (the one helper every test uses)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_base_url() -> Iterator[str]:
    """A Redis of this test run's own (a redis-server started on a free port), else db 15 of the local one on
    6379; else FAIL (never skip). A private server keeps parallel runs from seeing each other's keys."""
    binary = shutil.which("redis-server")
    if binary is None:
        if not _redis_ping(6379):
            pytest.fail("Redis is needed for these tests: redis-server is not installed "
                        "(apt-get install redis-server) and nothing answers on 127.0.0.1:6379")
        yield "redis://127.0.0.1:6379/15"
        return
    port = free_port()
    proc: Optional[subprocess.Popen] = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while not _redis_ping(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None and proc.stderr else ""
            proc.kill()
            pytest.fail(f"Redis is needed for these tests: could not start redis-server on port {port}: "
                        f"{err[-500:]}")
        time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
async def fake_rasa():
    """A fake Rasa server (trigger_intent, tracker, execute) on a free port, for the notifier and reminder jobs."""
    from tests.fakes.rasa_server import FakeRasaServer

    server = FakeRasaServer()
    await server.start()
    yield server
    await server.stop()
