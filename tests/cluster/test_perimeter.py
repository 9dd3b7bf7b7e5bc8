"""Issue 13 on real processes: the cluster started the way the README says (`scripts/run_cluster.sh`, the platform
credentials, nginx in front), then every request an outsider tried, without credentials, on the public port.

Each is refused (404 from nginx for anything but the platform webhooks and health; 401 from Rasa's API and 403 from
the action server on their internal ports), nothing reaches the model loader or a citizen; the same requests with
the token work for the console and the jobs.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import aiohttp
import pytest
from yarl import URL

from tests.cluster.test_faults import DOSSIER_API_KEY, Fakes
from tests.conftest import REPO, rasa_env
from tests.e2e.test_platforms_e2e import (APP_ID, APP_SECRET, FB_SECRET, PAGE_TOKEN, messenger_delivery,
                                          messenger_message, messenger_texts_to, post_messenger, wait_for)
from tests.fakes.processes import RedisServer, free_port, http_status

pytestmark = pytest.mark.slow


def two_free_ports() -> int:
    """A port p such that p and p + 1 are free (run_cluster.sh numbers the Rasa servers from one port)."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


@dataclass
class Deployment:
    """The running cluster."""

    public: str
    rasa_urls: List[str]
    action_url: str
    token: str
    action_token: str
    fakes: Fakes
    work: Path
    proc: subprocess.Popen

    def logs(self) -> str:
        """The script's output and nginx's error log."""
        out = (self.work / "cluster.log").read_text(errors="replace")[-4000:]
        error_log = self.work / "nginx" / "error.log"
        return out + (error_log.read_text(errors="replace")[-2000:] if error_log.exists() else "")


@pytest.fixture(scope="module")
def deployment(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """`scripts/run_cluster.sh 2 PORT` with bot/credentials.platforms.yml, our own Redis and the fakes."""
    work = tmp_path_factory.mktemp("perimeter")
    (work / "redis").mkdir()
    redis = RedisServer(work / "redis")
    try:
        redis.start()
    except RuntimeError as exc:
        pytest.fail(f"Redis is needed for these tests: {exc}")
    fakes = Fakes()
    public_port, action_port, first_rasa = free_port(), free_port(), two_free_ports()
    token, action_token = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = rasa_env()
    env.update({
        "MODEL": str(trained_model), "CREDENTIALS": "bot/credentials.platforms.yml",
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port), "REDIS_DB": "3",
        "REDIS_URL": f"{redis.url}/3", "DATABASE_URL": f"sqlite:///{work / 'app.sqlite'}",
        "ACTION_PORT": str(action_port), "FIRST_RASA_PORT": str(first_rasa), "PUBLIC_HOST": "127.0.0.1",
        "CLUSTER_RUN_DIR": str(work / "nginx"), "RASA_TOKEN": token, "ACTION_SERVER_TOKEN": action_token,
        "DOSSIER_DB_PATH": str(work / "dossiers.sqlite"), "DOSSIER_SUBSCRIPTIONS_DB_PATH": str(work / "subs.sqlite"),
        "DOSSIER_API_URL": fakes.one_stop_url, "DOSSIER_API_KEY": DOSSIER_API_KEY,
        "ZALO_APP_ID": APP_ID, "ZALO_OA_SECRET": "perimeter-oa-secret", "ZALO_ACCESS_TOKEN": "at-0",
        "ZALO_REFRESH_TOKEN": "rt-0", "ZALO_APP_SECRET": APP_SECRET, "ZALO_API_BASE": fakes.zalo_url,
        "ZALO_OAUTH_BASE": fakes.zalo_url, "ZALO_TOKEN_FILE": str(work / "zalo_tokens.json"),
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN, "MESSENGER_APP_SECRET": FB_SECRET,
        "MESSENGER_VERIFY_TOKEN": "perimeter-verify", "MESSENGER_GRAPH_BASE": fakes.messenger_url,
    })
    log = open(work / "cluster.log", "w")
    proc = subprocess.Popen(["bash", "scripts/run_cluster.sh", "2", str(public_port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    d = Deployment(f"http://127.0.0.1:{public_port}", [f"http://127.0.0.1:{first_rasa + i}" for i in range(2)],
                   f"http://127.0.0.1:{action_port}", token, action_token, fakes, work, proc)
    try:
        deadline = time.monotonic() + 420
        while not (all(http_status(f"{u}/webhooks/ops/ready") == 200 for u in d.rasa_urls)
                   and http_status(f"{d.public}/webhooks/ops/ready") == 200):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the cluster did not come up (exit {proc.poll()}):\n{d.logs()}")
            time.sleep(1)
        yield d
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the script's trap stops its servers and nginx
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        fakes.close()
        redis.stop()


async def request(method: str, url: str, body: Any = None, headers: Dict[str, str] = None) -> Tuple[int, str]:
    """(status, text) of one request; the URL is sent as written (no normalisation by the client)."""
    async with aiohttp.ClientSession() as session:
        kwargs: Dict[str, Any] = {"headers": headers or {}}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["headers"].setdefault("Content-Type", "application/json")
        async with session.request(method, URL(url, encoded=True), **kwargs) as resp:
            return resp.status, await resp.text()


async def talk_on_messenger(d: Deployment, user: str, text: str) -> None:
    """A citizen's message through the public port, answered through the (fake) Send API."""
    before = len(messenger_texts_to(d.fakes, user))
    assert await post_messenger(d.public, messenger_delivery([messenger_message(user, {"text": text})])) == 200
    assert await wait_for(lambda: len(messenger_texts_to(d.fakes, user)) > before, 60), d.logs()


def outsider_requests(user: str) -> List[Tuple[str, str, Any]]:
    """Every request of the issue (and a few path tricks), as an outsider sends them."""
    events = [{"event": "slot", "name": "proof_last4", "value": "ok"},
              {"event": "slot", "name": "last_dossier_code", "value": "000.00.11.H26-241115-0007"}]
    return [
        ("GET", f"/conversations/{user}/tracker", None),
        ("POST", f"/conversations/{user}/tracker/events", events),
        ("POST", f"/conversations/{user}/execute", {"name": "action_show_dossier_details"}),
        ("POST", f"/conversations/{user}/trigger_intent", {"name": "greet"}),
        ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}),
        ("GET", "/status", None),
        ("POST", "/model/parse", {"text": "xin chào"}),
        ("GET", "/version", None),
        ("POST", "/webhooks/rest/webhook", {"sender": user, "message": "xin chào"}),
        ("GET", "/webhooks/ops/metrics", None),
        ("POST", "/webhook", {"next_action": "action_show_dossier_details", "sender_id": user}),
        ("GET", f"//conversations/{user}/tracker", None),
        ("GET", f"/webhooks/zalo/webhook/../../../conversations/{user}/tracker", None),
        ("GET", f"/webhooks/messenger/webhook/..%2F..%2F..%2Fconversations/{user}/tracker", None),
        ("GET", f"/%63onversations/{user}/tracker", None),
        ("GET", f"/webhooks/ops/health/../../../conversations/{user}/tracker?token=", None),
    ]


async def test_outsiders_get_nothing_on_the_public_port(deployment: Deployment) -> None:
    d = deployment
    user = "p" + uuid.uuid4().hex[:12]
    secret_text = "số căn cước của tôi là 001203004567"
    await talk_on_messenger(d, user, secret_text)
    delivered = len(messenger_texts_to(d.fakes, user))
    for method, path, body in outsider_requests(user):
        status, text = await request(method, d.public + path, body)
        assert status in (400, 401, 403, 404), (method, path, status, text[:200])
        assert "001203004567" not in text and "proof_last4" not in text, (method, path)
    await asyncio.sleep(3)  # a message triggered by one of them would have arrived by now
    assert len(messenger_texts_to(d.fakes, user)) == delivered, "an outsider's request reached the citizen"
    # With the token the conversation is there, and stored masked (privacy.tracker_store).
    from infra.rasa_api import RasaApi

    async with RasaApi(d.rasa_urls[0], d.token) as api:
        status, tracker = await api.tracker(user)
    assert status == 200 and tracker is not None
    said = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert said == ["số căn cước của tôi là 0012********"], said
    # What is public still works: health, readiness, the Messenger verify handshake.
    assert (await request("GET", d.public + "/webhooks/ops/health"))[0] == 200
    status, text = await request("GET", d.public + "/webhooks/messenger/webhook?hub.mode=subscribe"
                                 "&hub.verify_token=perimeter-verify&hub.challenge=4242")
    assert (status, text) == (200, "4242")


async def test_the_internal_ports_refuse_without_the_secrets(deployment: Deployment) -> None:
    d = deployment
    user = "p" + uuid.uuid4().hex[:12]
    await talk_on_messenger(d, user, "chào bạn")
    delivered = len(messenger_texts_to(d.fakes, user))
    for method, path, body in outsider_requests(user)[:7]:
        status, _ = await request(method, d.rasa_urls[0] + path, body)
        assert status == 401, (method, path, status)  # PUT /model never reaches the model loader
    crafted = {"next_action": "action_show_dossier_details", "sender_id": user, "version": "3.6.0",
               "tracker": {"sender_id": user, "slots": {"proof_last4": "ok",
                                                         "last_dossier_code": "000.00.11.H26-241115-0007"},
                           "latest_message": {}, "events": [], "paused": False, "active_loop": {}},
               "domain": {}}
    for headers in ({}, {"X-Action-Token": "guess"}):
        status, _ = await request("POST", d.action_url + "/webhook", crafted, headers)
        assert status == 403
    # Even with the action server's secret, a crafted "ok" slot reveals nothing: there is no proof on the server.
    status, text = await request("POST", d.action_url + "/webhook", crafted, {"X-Action-Token": d.action_token})
    assert status == 200, text[:300]
    said = " ".join(r.get("text") or "" for r in json.loads(text)["responses"])
    assert "Người nộp" not in said and "xác minh" in said, said
    # A REST caller naming the Messenger citizen's id talks in its own rest:<id> conversation.
    status, _ = await request("POST", d.rasa_urls[0] + "/webhooks/rest/webhook",
                              {"sender": user, "message": "tạm biệt"})
    assert status == 200
    await asyncio.sleep(2)
    assert len(messenger_texts_to(d.fakes, user)) == delivered
    from infra.rasa_api import RasaApi

    async with RasaApi(d.rasa_urls[1], d.token) as api:
        _, citizen = await api.tracker(user)
        _, rest = await api.tracker("rest:" + user)
    said_by = {name: [e.get("text") for e in t["events"] if e.get("event") == "user"]
               for name, t in (("citizen", citizen), ("rest", rest))}
    assert said_by == {"citizen": ["chào bạn"], "rest": ["tạm biệt"]}, said_by


async def test_with_the_token_the_console_and_the_jobs_work(deployment: Deployment) -> None:
    from onestop.handoffs import fetch_transcript
    from infra.rasa_api import RasaApi
    from onestop.dossiers.seed import demo_codes

    d = deployment
    user = "p" + uuid.uuid4().hex[:12]
    await talk_on_messenger(d, user, "chào bạn")
    transcript = await fetch_transcript(d.rasa_urls[1], user, d.token)  # the console's hand-off view
    assert transcript and transcript[0] == {**transcript[0], "who": "citizen", "text": "chào bạn"}
    assert await fetch_transcript(d.rasa_urls[1], user, "wrong-token") is None
    code = next(codes[0] for codes in demo_codes(1).values() if codes)
    async with RasaApi(d.rasa_urls[0], d.token) as api:  # as the dossier notifier does
        status = await api.trigger_intent(user, "EXTERNAL_dossier_status_changed", {"dossier_code": code})
    assert status == 200
    assert await wait_for(lambda: any(code in t for t in messenger_texts_to(d.fakes, user)), 30), \
        messenger_texts_to(d.fakes, user)
    # Even the token holder cannot skip the ownership proof by writing the slot (the exact requests):
    from actions.dossier_actions import NOT_PROVED
    from onestop.dossiers.seed import demo_dossier

    forged = [{"event": "slot", "name": "last_dossier_code", "value": code},
              {"event": "slot", "name": "proof_last4", "value": "ok"}]
    async with RasaApi(d.rasa_urls[1], d.token) as api:
        assert await api.append_events(user, forged) == 200
        assert await api.execute(user, "action_show_dossier_details") == 200
    assert await wait_for(lambda: any(NOT_PROVED in t for t in messenger_texts_to(d.fakes, user)), 30), \
        messenger_texts_to(d.fakes, user)
    assert not any(demo_dossier(code).applicant_name in t for t in messenger_texts_to(d.fakes, user))
