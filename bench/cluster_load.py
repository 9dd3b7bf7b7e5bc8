"""Several instances under load: 1 vs 2 Rasa servers behind nginx (cluster.proxy), at 10, 50 and 200 citizens.

Usage: .venv/bin/python bench/cluster_load.py [--levels 10,50,200] [--turns 3] [--think 3-8]
Each configuration runs on real processes: one action server, N Rasa servers sharing Redis (tracker store and the
atomic lock store, bot/endpoints.cluster.yml), nginx in front (the configuration of make run-cluster), and a local fake Graph API. Every simulated
citizen sends --turns Messenger messages (procedure questions and small talk); after each answer the citizen
"reads and types" for a random think time (--think, seconds) before the next message, as on a phone. Printed per
level and configuration: replies per second, message-to-reply p50/p95/p99 (first reply), messages lost (no reply
within 60 s), duplicated (more replies than the turn produces), and the peak resident memory (VmHWM) of each
process kind. Both configurations run in the same invocation, one after the other, on the same machine.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Tuple

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.connector_load import SECRET, TOKEN, delivery, free_port, pct, wait_up  # noqa: E402
from tests.fakes.fake_messenger import FakeMessenger  # noqa: E402

# (question, number of bot messages its turn produces)
TURNS = [("làm giấy khai sinh cần giấy tờ gì", 1), ("chào bạn", 1), ("đăng ký tạm trú nộp ở đâu", 1),
         ("cảm ơn nhé", 1), ("lam can cuoc het bao nhieu tien", 1), ("lý lịch tư pháp mất bao lâu", 1)]


def vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process (MB)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def sign(raw: bytes) -> Dict[str, str]:
    import hashlib
    import hmac

    mac = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={mac}"}


def replies(fake: FakeMessenger, user: str) -> List[float]:
    return [r["time"] for r in list(fake.delivered)
            if r["body"].get("recipient", {}).get("id") == user and r["body"].get("message")]


async def load(url: str, fake: FakeMessenger, users: int, turns: int, think: Tuple[float, float],
               seed: int) -> Dict[str, float]:
    """Drive ``users`` citizens through the proxy; returns the figures of this level."""
    rnd = random.Random(seed)
    latencies: List[float] = []
    lost = duplicated = 0
    expected_total = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def citizen(i: int) -> None:
            nonlocal lost, duplicated, expected_total
            user = f"c{seed}-{i}-{uuid.uuid4().hex[:6]}"
            await asyncio.sleep(rnd.uniform(0, think[1]))  # citizens do not all start in the same millisecond
            expected = 0
            for turn in range(turns):
                text, produces = TURNS[(i + turn) % len(TURNS)]
                before = len(replies(fake, user))
                raw = delivery(user, uuid.uuid4().hex, text)
                start = time.monotonic()  # the fake stamps deliveries with the same clock
                async with session.post(url + "/webhooks/messenger/webhook", data=raw, headers=sign(raw)) as resp:
                    await resp.read()
                expected += produces
                deadline = time.monotonic() + 60
                while len(replies(fake, user)) < before + produces and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                got = replies(fake, user)
                if len(got) > before:
                    latencies.append((got[before] - start) * 1000)
                else:
                    lost += 1
                await asyncio.sleep(rnd.uniform(*think))
            await asyncio.sleep(1.0)
            duplicated += max(0, len(replies(fake, user)) - expected)
            expected_total += expected

        t0 = time.monotonic()
        await asyncio.gather(*(citizen(i) for i in range(users)))
        elapsed = time.monotonic() - t0
    return {"replies_per_s": len(latencies) / elapsed, "p50": pct(latencies, 50), "p95": pct(latencies, 95),
            "p99": pct(latencies, 99), "lost": lost, "duplicated": duplicated, "messages": users * turns}


def run_config(instances: int, levels: List[int], args: argparse.Namespace, model: str, fake: FakeMessenger,
               fake_url: str, loop: asyncio.AbstractEventLoop) -> Tuple[Dict[int, Dict[str, float]], Dict[str, float]]:
    """Start one action server, ``instances`` Rasa servers and nginx; run every level."""
    work = Path(tempfile.mkdtemp(prefix=f"cluster-bench-{instances}-"))
    action_port, lb_port = free_port(), free_port()
    rasa_ports = [free_port() for _ in range(instances)]
    (work / "credentials.yml").write_text(
        f"connectors.messenger.MessengerInput:\n  page_access_token: {TOKEN}\n  app_secret: {SECRET}\n"
        "  verify_token: v\n\ncluster.ops.OpsChannel:\n")
    redis_db = os.environ.get("BENCH_REDIS_DB", "4")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2", MESSENGER_GRAPH_BASE=fake_url,
               APP_DB_PATH=str(work / "app.sqlite"), REDIS_HOST="127.0.0.1", REDIS_PORT="6379", REDIS_DB=redis_db,
               REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
               ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook", RASA_TOKEN=secrets.token_urlsafe(16),
               ACTION_SERVER_TOKEN=secrets.token_urlsafe(16))
    env.pop("DATABASE_URL", None)
    procs: Dict[str, List[subprocess.Popen]] = {"action server": [], "rasa server": [], "proxy": []}
    logs = []

    def start(kind: str, cmd: List[str]) -> subprocess.Popen:
        log = open(work / f"{kind.replace(' ', '-')}-{len(procs[kind])}.log", "w")
        logs.append(log)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs[kind].append(proc)
        return proc

    try:
        start("action server", [sys.executable, "-m", "actions.server", "--port", str(action_port)])
        for port in rasa_ports:
            start("rasa server", [sys.executable, "-m", "cluster.serve", "--model", model, "--endpoints",
                                  str(ROOT / "bot" / "endpoints.cluster.yml"), "--credentials",
                                  str(work / "credentials.yml"), "--interface", "127.0.0.1", "--port", str(port)])
        from cluster.proxy import render

        (work / "nginx.conf").write_text(render([f"127.0.0.1:{p}" for p in rasa_ports], f"127.0.0.1:{lb_port}",
                                                work))
        nginx = subprocess.run(["bash", str(ROOT / "scripts" / "find_nginx.sh")], capture_output=True, text=True,
                               check=True).stdout.strip()
        start("proxy", [nginx, "-p", str(work), "-c", str(work / "nginx.conf"), "-e", str(work / "error.log"),
                        "-g", "daemon off;"])
        wait_up(f"http://127.0.0.1:{action_port}/ready", procs["action server"][0], 300)
        for port, proc in zip(rasa_ports, procs["rasa server"]):
            wait_up(f"http://127.0.0.1:{port}/webhooks/ops/ready", proc, 300)
        url = f"http://127.0.0.1:{lb_port}"
        results = {}
        for level in levels:
            print(f"== {instances} instance(s), {level} citizens", file=sys.stderr, flush=True)
            results[level] = loop.run_until_complete(
                load(url, fake, level, args.turns, args.think, seed=level * 10 + instances))
        memory = {kind: max((vm_hwm_mb(p.pid) for p in ps), default=float("nan")) for kind, ps in procs.items()}
        return results, memory
    finally:
        for ps in procs.values():
            for p in ps:
                p.terminate()
        for ps in procs.values():
            for p in ps:
                try:
                    p.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    p.kill()
        for log in logs:
            log.close()


def main() -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="10,50,200")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--think", default="3-8", help="seconds between an answer and the next message (min-max)")
    parser.add_argument("--instances", default="1,2")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    lo, hi = (float(x) for x in args.think.split("-"))
    args.think = (lo, hi)
    levels = [int(x) for x in args.levels.split(",")]
    model = args.model or str(max((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime))
    loop = asyncio.new_event_loop()
    fake = FakeMessenger(TOKEN, "v21.0")
    fake_url = loop.run_until_complete(fake.start())
    fake.delay = 0.0
    table: Dict[int, Tuple[Dict[int, Dict[str, float]], Dict[str, float]]] = {}
    try:
        for n in (int(x) for x in args.instances.split(",")):
            table[n] = run_config(n, levels, args, model, fake, fake_url, loop)
    finally:
        loop.run_until_complete(fake.stop())
    configs = sorted(table)
    print(f"\nMessenger through nginx; each citizen sends {args.turns} messages, thinking "
          f"{lo:.0f}-{hi:.0f} s after each answer (model {Path(model).name}, {os.cpu_count()} cores)")
    header = "".join(f"{f'{n} instance(s)':>34}" for n in configs)
    print(f"{'citizens':10}{header}")
    print(f"{'':10}" + "".join(f"{'rep/s  p50/p95/p99 ms  lost dup':>34}" for _ in configs))
    for level in levels:
        cells = []
        for n in configs:
            r = table[n][0][level]
            cells.append(f"{r['replies_per_s']:5.1f} {r['p50']:5.0f}/{r['p95']:5.0f}/{r['p99']:5.0f} "
                         f"{r['lost']:4.0f} {r['duplicated']:3.0f}")
        print(f"{level:<10}" + "".join(f"{c:>34}" for c in cells))
    print("peak memory (VmHWM, MB, largest process of each kind)")
    for kind in ("rasa server", "action server", "proxy"):
        print(f"  {kind:16}" + "".join(f"{table[n][1][kind]:>12.0f}" for n in configs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
