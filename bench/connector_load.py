"""Messenger webhook under load: our connector vs Rasa 3.6's built-in `facebook` channel, same load, same run.

Usage: python bench/connector_load.py [--users 50] [--turns 3] [--model models/...tar.gz]
Each channel gets its own Rasa server (in-memory tracker store) and the same action server; the Graph API is a
local fake that records what each user receives. Phase 1: `--users` simulated citizens each ask `--turns`
procedure questions, one after the other, waiting for the answer. Phase 2 (redelivery storm): every user's next
message is delivered 3 times at once with the same mid, as Meta does after a timeout. Prints webhook
acknowledgement latency, message-to-reply latency, replies per second and duplicates delivered.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.fake_messenger import FakeMessenger  # noqa: E402

SECRET = "bench-secret"
TOKEN = "bench-page-token"
QUESTIONS = ["làm giấy khai sinh cần giấy tờ gì", "đăng ký tạm trú nộp ở đâu", "lam can cuoc het bao nhieu tien",
             "lý lịch tư pháp mất bao lâu", "đăng ký kết hôn cần gì", "đổi bằng lái xe nộp ở đâu"]


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(values: List[float], q: float) -> float:
    """Nearest-rank percentile (ms)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def wait_up(url: str, proc: subprocess.Popen, seconds: float = 300) -> None:
    """Poll ``url`` until it answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process {proc.args[:4]} died")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url} not up")


class Channel:
    """One channel under test: how to reach and sign its webhook, and the fake Graph API it answers to."""

    def __init__(self, name: str, path: str, header: str, digest: str, fake: FakeMessenger) -> None:
        self.name, self.path, self.header, self.digest, self.fake = name, path, header, digest, fake

    def sign(self, raw: bytes) -> Dict[str, str]:
        mac = hmac.new(SECRET.encode(), raw, getattr(hashlib, self.digest)).hexdigest()
        return {"Content-Type": "application/json", self.header: f"{self.digest}={mac}"}


def delivery(user: str, mid: str, text: str) -> bytes:
    """A Messenger webhook body with one text message."""
    now = int(time.time() * 1000)
    return json.dumps({"object": "page", "entry": [{"id": "page", "time": now, "messaging": [
        {"sender": {"id": user}, "recipient": {"id": "page"}, "timestamp": now,
         "message": {"mid": mid, "text": text}}]}]}, ensure_ascii=False).encode()


def replies_to(fake: FakeMessenger, user: str) -> List[float]:
    """Arrival times of text replies delivered to ``user``."""
    return [r["time"] for r in list(fake.delivered)
            if r["body"].get("recipient", {}).get("id") == user and r["body"].get("message")]


async def run_load(url: str, ch: Channel, users: int, turns: int) -> Dict[str, float]:
    """Phase 1 and 2 against one running server."""
    acks: List[float] = []
    latencies: List[float] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def send(user: str, mid: str, text: str) -> float:
            raw = delivery(user, mid, text)
            start = time.monotonic()
            async with session.post(url + ch.path, data=raw, headers=ch.sign(raw)) as resp:
                await resp.read()
                acks.append((time.monotonic() - start) * 1000)
            return start

        async def citizen(i: int) -> None:
            user = f"{ch.name}-{i}-{uuid.uuid4().hex[:6]}"
            for turn in range(turns):
                before = len(replies_to(ch.fake, user))
                start = await send(user, uuid.uuid4().hex, QUESTIONS[(i + turn) % len(QUESTIONS)])
                deadline = time.monotonic() + 60
                while len(replies_to(ch.fake, user)) <= before and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                got = replies_to(ch.fake, user)
                if len(got) > before:
                    latencies.append((got[before] - start) * 1000)
                await asyncio.sleep(0.3)  # let every reply of this turn arrive before the next question

        t0 = time.monotonic()
        await asyncio.gather(*(citizen(i) for i in range(users)))
        elapsed = time.monotonic() - t0
        phase1_replies = len(latencies)

        storm_users = [f"{ch.name}-storm-{i}-{uuid.uuid4().hex[:6]}" for i in range(users)]

        async def storm(user: str) -> None:
            mid = uuid.uuid4().hex
            await asyncio.gather(*(send(user, mid, "chào bạn") for _ in range(3)))

        await asyncio.gather(*(storm(u) for u in storm_users))
        await asyncio.sleep(8)
        duplicates = sum(max(0, len(replies_to(ch.fake, u)) - 1) for u in storm_users)
        answered = sum(1 for u in storm_users if replies_to(ch.fake, u))
    return {"ack_p50": pct(acks, 50), "ack_p99": pct(acks, 99), "reply_p50": pct(latencies, 50),
            "reply_p95": pct(latencies, 95), "replies_per_s": phase1_replies / elapsed,
            "answered": phase1_replies, "asked": users * turns, "storm_duplicates": duplicates,
            "storm_answered": answered}


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    model = args.model or str(max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime))

    loop = asyncio.new_event_loop()
    ours_fake, builtin_fake = FakeMessenger(TOKEN, "v21.0"), FakeMessenger(TOKEN, "v2.12")
    ours_base = loop.run_until_complete(ours_fake.start())
    builtin_base = loop.run_until_complete(builtin_fake.start())
    ours_fake.delay = builtin_fake.delay = 0.0

    work = Path(tempfile.mkdtemp(prefix="connector-bench-"))
    action_port = free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n")
    credentials = {
        "ours": "connectors.messenger.MessengerInput:\n  page_access_token: " + TOKEN +
                f"\n  app_secret: {SECRET}\n  verify_token: v\n",
        "builtin": f"bench.builtin_facebook.BuiltinFacebookInput:\n  verify: v\n  secret: {SECRET}\n"
                   f"  page-access-token: {TOKEN}\n",
    }
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2", MESSENGER_GRAPH_BASE=ours_base,
               FB_GRAPH_BASE=builtin_base, APP_DB_PATH=str(work / "app.sqlite"))
    env.pop("REDIS_URL", None)
    actions = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port",
                                str(action_port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    results: Dict[str, Dict[str, float]] = {}
    channels = {"ours": Channel("ours", "/webhooks/messenger/webhook", "X-Hub-Signature-256", "sha256", ours_fake),
                "builtin": Channel("builtin", "/webhooks/facebook/webhook", "X-Hub-Signature", "sha1",
                                   builtin_fake)}
    try:
        wait_up(f"http://127.0.0.1:{action_port}/health", actions)
        for name, ch in channels.items():
            cred = work / f"credentials-{name}.yml"
            cred.write_text(credentials[name])
            port = free_port()
            log = open(work / f"rasa-{name}.log", "w")
            rasa = subprocess.Popen([sys.executable, "-m", "rasa", "run", "--model", model, "--endpoints",
                                     str(endpoints), "--credentials", str(cred), "--port", str(port)],
                                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_up(f"http://127.0.0.1:{port}/", rasa)
                # warm-up: the first turn loads the knowledge model in the action server
                loop.run_until_complete(run_load(f"http://127.0.0.1:{port}", ch, 2, 1))
                ch.fake.delivered.clear()
                print(f"== {name}: {args.users} users x {args.turns} questions", file=sys.stderr)
                results[name] = loop.run_until_complete(run_load(f"http://127.0.0.1:{port}", ch, args.users,
                                                                 args.turns))
            finally:
                rasa.terminate()
                rasa.wait(timeout=30)
                log.close()
    finally:
        actions.terminate()
        actions.wait(timeout=30)
        loop.run_until_complete(ours_fake.stop())
        loop.run_until_complete(builtin_fake.stop())

    rows = [("webhook ack p50 (ms)", "ack_p50"), ("webhook ack p99 (ms)", "ack_p99"),
            ("message-to-reply p50 (ms)", "reply_p50"), ("message-to-reply p95 (ms)", "reply_p95"),
            ("replies per second", "replies_per_s"), ("questions answered", "answered"),
            ("questions asked", "asked"), ("storm: users answered", "storm_answered"),
            ("storm: duplicate replies", "storm_duplicates")]
    print(f"\nMessenger webhook, {args.users} concurrent users, one Rasa instance each (model {Path(model).name})")
    print(f"{'':30}{'ours':>12}{'rasa facebook':>16}")
    for label, key in rows:
        print(f"{label:30}{results['ours'][key]:>12.1f}{results['builtin'][key]:>16.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
