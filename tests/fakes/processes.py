"""Real processes for end-to-end and fault tests: free ports, waiting for HTTP, stopping, a Redis server we can
restart, and a background event loop that serves the fake platforms."""
from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, Dict, List, Optional

from tests.conftest import PYTHON, REPO, free_port




def http_status(url: str, timeout: float = 2.0) -> int:
    """The HTTP status of a GET (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_http(url: str, proc: subprocess.Popen, seconds: float) -> None:
    """Wait until ``url`` answers 200; RuntimeError when ``proc`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        if http_status(url) == 200:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{url} not up after {seconds} s")


def stop_process(proc: Optional[subprocess.Popen], timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def start_action_server(port: int, env: Dict[str, str], log: IO[Any]) -> subprocess.Popen:
    """``python -m actions.server`` (warm-up included) on ``port``."""
    return subprocess.Popen([PYTHON, "-m", "actions.server", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def start_rasa_server(model: Path, endpoints: Path, credentials: Path, port: int, env: Dict[str, str],
                      log: IO[Any]) -> subprocess.Popen:
    """``rasa run`` as deployed (cluster.serve): the HTTP API enabled behind ``env["RASA_TOKEN"]`` (trackers are
    read back through it with that token), on 127.0.0.1."""
    return subprocess.Popen([PYTHON, "-m", "cluster.serve", "--model", str(model), "--endpoints", str(endpoints),
                             "--credentials", str(credentials), "--interface", "127.0.0.1", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


class LoopThread:
    """An asyncio loop on a daemon thread, for fake servers that must keep serving while a test blocks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run ``coro`` on the loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    def stop(self) -> None:
        """Stop the loop (the thread ends with it)."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class RedisServer:
    """A redis-server of the test's own, with an append-only file so that data survives a restart, as in
    production; ``restart`` brings it back on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:port (no database)."""
        return f"redis://127.0.0.1:{self.port}"

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        """Start and wait until it answers PING; RuntimeError otherwise."""
        args: List[str] = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                           "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self._ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                stop_process(self.proc)
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (Redis flushes its append-only file) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop, stay down ``down_seconds``, start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start()
