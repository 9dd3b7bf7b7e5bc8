"""A hand-off end to end: a real Rasa server (trained model, --enable-api, REST channel) and action server; the
console shows the transcript, the officer's reply reaches the paused conversation through Rasa, closing gives the
conversation back to the bot."""
from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from aiohttp.test_utils import TestClient, TestServer

from onestop import handoffs

from ..conftest import PYTHON, REPO, free_port, rasa_env
from .helpers import EDITOR, sign_in

pytestmark = pytest.mark.slow
SENDER = "citizen-e2e"
# The REST channel namespaces its senders (connectors/rest.py): this is the conversation id.
CONVERSATION = "rest:" + SENDER
TOKEN = "console-e2e-token"  # the Rasa API answers only with it, as in make run


def _wait(url: str, proc: subprocess.Popen, seconds: int) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{url}: the process exited ({proc.returncode})")
            time.sleep(1)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


@pytest.fixture
def bot(trained_model: Path, console_env, tmp_path: Path) -> Iterator[str]:
    """Rasa (REST channel, HTTP API) and the action server on this test's database and knowledge copy."""
    rasa_port, action_port = free_port(), free_port()
    endpoints = tmp_path / "endpoints.yml"
    # The statistics broker as in bot/endpoints.yml, flushing often: the dashboard sees this conversation.
    endpoints.write_text(f'action_endpoint:\n  url: "http://localhost:{action_port}/webhook"\n'
                         'event_broker:\n  type: cluster.stats_broker.StatsEventBroker\n  flush_seconds: 0.2\n',
                         encoding="utf-8")
    env = rasa_env()
    env["RASA_TOKEN"] = TOKEN
    env.update({k: str(v) for k, v in (("APP_DB_PATH", tmp_path / "app.sqlite"), ("KB_DIR", console_env["kb"]),
                                        ("KB_INDEX_DIR", console_env["kb"] / "index"),
                                        ("HANDOFF_CALLBACK_OUT_OF_HOURS", "0"))})  # pause at any hour
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("actions", "rasa")}
    actions = subprocess.Popen([PYTHON, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
                               cwd=REPO, env=env, stdout=logs["actions"], stderr=subprocess.STDOUT)
    rasa = subprocess.Popen([PYTHON, "-m", "cluster.serve", "--model", str(trained_model), "--endpoints",
                             str(endpoints), "--credentials", str(REPO / "bot" / "credentials.yml"), "--port",
                             str(rasa_port)], cwd=REPO, env=env, stdout=logs["rasa"], stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{action_port}/health", actions, 120)
        _wait(f"http://127.0.0.1:{rasa_port}/status?token={TOKEN}", rasa, 300)
        yield f"http://127.0.0.1:{rasa_port}"
    except RuntimeError as exc:
        for f in logs.values():
            f.flush()
        pytest.fail(f"{exc}\n{(tmp_path / 'rasa.log').read_text()[-3000:]}")
    finally:
        for proc in (rasa, actions):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for f in logs.values():
            f.close()


def _say(rasa_url: str, text: str) -> List[Dict[str, Any]]:
    req = urllib.request.Request(f"{rasa_url}/webhooks/rest/webhook", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"sender": SENDER, "message": text}).encode())
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


async def test_an_officer_answers_a_handed_over_conversation_then_gives_it_back(bot, console_env):
    import asyncio

    from console.app import create_app

    replies = await asyncio.to_thread(_say, bot, "/human_handoff")
    assert any("chuyển cuộc trò chuyện cho cán bộ" in r.get("text", "") for r in replies)
    assert handoffs.list_handoffs()[0]["sender_id"] == CONVERSATION
    assert await asyncio.to_thread(_say, bot, "em cần hỏi về hộ khẩu ạ") == []  # paused: the bot stays quiet

    app = create_app(console_env["cfg"], rasa_url=bot, rasa_token="wrong")
    async with TestClient(TestServer(app)) as officer:  # without the right token the console sees nothing
        await sign_in(officer, EDITOR)
        html = await (await officer.get(f"/handoffs/{CONVERSATION}")).text()
        assert "em cần hỏi về hộ khẩu ạ" not in html
    app = create_app(console_env["cfg"], rasa_url=bot, rasa_token=TOKEN)
    async with TestClient(TestServer(app)) as officer:
        csrf = await sign_in(officer, EDITOR)
        html = await (await officer.get(f"/handoffs/{CONVERSATION}")).text()
        assert "em cần hỏi về hộ khẩu ạ" in html and "chuyển cuộc trò chuyện cho cán bộ" in html
        resp = await officer.post(f"/handoffs/{CONVERSATION}/reply", allow_redirects=False,
                                  data={"_csrf": csrf, "text": "Dạ, em là cán bộ Lan, anh cần hỏi gì ạ?"})
        assert resp.status == 302, await resp.text()
        html = await (await officer.get(f"/handoffs/{CONVERSATION}")).text()
        assert "Dạ, em là cán bộ Lan, anh cần hỏi gì ạ?" in html  # in the tracker: sent through the channel
        assert handoffs.list_handoffs()[0]["officer"] == "Nguyễn Thị Lan"
        resp = await officer.post(f"/handoffs/{CONVERSATION}/close", data={"_csrf": csrf}, allow_redirects=False)
        assert resp.status == 302, await resp.text()
    assert handoffs.list_handoffs() == []
    replies = await asyncio.to_thread(_say, bot, "/greet")
    assert replies and "Xin chào" in replies[0]["text"]  # the bot answers again
    await _dashboard_counts_the_conversation()


async def _dashboard_counts_the_conversation() -> None:
    """The Rasa server's event broker recorded the three messages; the dashboard counts them and the hand-off."""
    import asyncio

    from infra.clock import now_local
    from onestop.stats import dashboard
    from onestop.stats.period import Filters

    today = now_local().date()
    for _ in range(50):   # the broker writes every 0.2 s from its own thread
        figures = dashboard.dashboard(Filters(today, today))
        if figures["traffic"]["total_messages"] >= 3:
            break
        await asyncio.sleep(0.2)
    assert figures["traffic"]["total_messages"] == 3 and figures["traffic"]["citizens"] == 1
    assert figures["outcomes"]["handed_off"] == [1]
    assert figures["handoffs"]["responded"] == 1 and figures["handoffs"]["waiting"] == 0
