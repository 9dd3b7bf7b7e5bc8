"""Publishing: drafts written to the files, the index rebuilt incrementally with progress, and the searcher of a
running process (the console's, and a real action server's) swapped without a restart or a failed request."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List

import pytest

from knowledge import client as kc
from console import content, store
from console.app import PUBLISHER
from knowledge.index import read_meta
from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
MARKER = "Lệ phí đăng ký khai sinh quá hạn tại Hà Nội: 8.000 đồng (đã xác minh thử)."
FEE_QUESTION = "làm giấy khai sinh hết bao nhiêu tiền"


def _edit_fees(kb: Path, author: str = "Nguyễn Thị Lan") -> None:
    repo = content.Repository(kb)
    item = repo.item("procedure", "khai_sinh")
    data = dict(item.data)
    data["fees"] = dict(data["fees"], text=MARKER)
    repo.save("procedure", "khai_sinh", data, author, item.version.number)


async def _publish(app, client) -> Dict[str, Any]:
    resp = await client.post("/publish", data={"_csrf": client.csrf}, allow_redirects=False)
    assert resp.status == 302
    seen = []
    for _ in range(600):
        status = await (await client.get("/publish/status", headers={"Accept": "application/json"})).json()
        seen.append(status)
        if status["state"] != "running":
            break
        await asyncio.sleep(0.5)
    return {"final": seen[-1], "seen": seen}


async def test_publish_writes_the_files_rebuilds_incrementally_and_the_bot_answers_from_it(
        app, editor, console_env, searcher_ready):
    kb = console_env["kb"]
    before = read_meta(kb / "index")
    old_searcher = kc.searcher()
    assert MARKER not in kc.compose("khai_sinh", "fee").text
    _edit_fees(kb)
    html = await (await editor.get("/publish")).text()
    assert "khai_sinh" in html and "Thay đổi chờ xuất bản (1)" in html

    # the bot keeps answering during the whole publish: no failed request in between
    answers: List[str] = []
    failures: List[BaseException] = []
    stop = asyncio.Event()

    async def keep_asking() -> None:
        while not stop.is_set():
            try:
                outcome = await kc.search(FEE_QUESTION)
                answers.append(kc.compose(outcome.results[0].key, outcome.aspect).text)
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                failures.append(exc)
            await asyncio.sleep(0.05)

    asker = asyncio.create_task(keep_asking())
    try:
        result = await _publish(app, editor)
    finally:
        stop.set()
        await asker
    stop.clear()
    asker = asyncio.create_task(keep_asking())
    final = result["final"]
    assert final["state"] == "done", final
    assert final["files"] == ["procedures/khai_sinh.yml"]
    assert "tính lại 1," in final["message"] and final["total"] == final["done"] == 1  # only the edited chunk
    after = read_meta(kb / "index")
    assert after["kb_version"] != before["kb_version"]
    assert MARKER in (kb / "procedures" / "khai_sinh.yml").read_text(encoding="utf-8")
    assert store.latest("procedure:khai_sinh").published_at is not None
    for _ in range(100):  # the running searcher notices the new index by itself (checked every 0.2 s here)
        if kc.searcher() is not old_searcher and kc.wait_for_reload():
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.3)
    stop.set()
    await asker
    assert not failures, failures[:3]
    assert kc.searcher() is not old_searcher
    assert any(MARKER not in a for a in answers) and MARKER in answers[-1]
    # the console's try-the-bot gives the bot's answer from the new content, with scores and the aspect
    html = await (await editor.get("/try", params={"q": FEE_QUESTION})).text()
    assert MARKER in html and "Lệ phí" in html and "khai_sinh" in html


async def test_publish_refuses_content_that_does_not_validate(app, editor, console_env):
    kb = console_env["kb"]
    repo = content.Repository(kb)
    item = repo.item("procedure", "tam_tru")
    data = dict(item.data, official_link="khong-phai-link")  # stored without the form's check (e.g. an old draft)
    repo.save("procedure", "tam_tru", data, "Nguyễn Thị Lan", item.version.number)
    final = (await _publish(app, editor))["final"]
    assert final["state"] == "failed" and "chưa hợp lệ" in final["message"]
    assert "khong-phai-link" not in (kb / "procedures" / "tam_tru.yml").read_text(encoding="utf-8")




def _ask_action_server(port: int, text: str) -> Dict[str, Any]:
    latest = {"text": text, "intent": {"name": "ask_procedure", "confidence": 1.0}, "entities": []}
    body = {"next_action": "action_answer_procedure", "sender_id": "reload-test", "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": "reload-test", "slots": {}, "latest_message": latest,
                        "events": [{"event": "user", "text": text, "parse_data": latest}], "paused": False,
                        "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200
        return json.loads(resp.read())


async def test_a_running_action_server_picks_up_the_published_index_without_a_restart(
        app, editor, console_env, tmp_path):
    kb = console_env["kb"]
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(REPO), KB_DIR=str(kb), KB_INDEX_DIR=str(kb / "index"),
               KB_RELOAD_CHECK_SECONDS="0.5", TF_CPP_MIN_LOG_LEVEL="2")
    log = open(tmp_path / "actions.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, (tmp_path / "actions.log").read_text()[-3000:]
                await asyncio.sleep(0.5)
        first = await asyncio.to_thread(_ask_action_server, port, FEE_QUESTION)
        assert MARKER not in first["responses"][0]["text"]
        _edit_fees(kb)
        statuses: List[str] = []
        stop = asyncio.Event()

        async def keep_asking() -> None:
            while not stop.is_set():
                try:
                    reply = await asyncio.to_thread(_ask_action_server, port, FEE_QUESTION)
                    statuses.append(reply["responses"][0]["text"])
                except Exception as exc:  # noqa: BLE001 - any failed request fails the test below
                    statuses.append(f"FAILED: {exc}")
                await asyncio.sleep(0.1)

        asker = asyncio.create_task(keep_asking())
        try:
            assert (await _publish(app, editor))["final"]["state"] == "done"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not (statuses and MARKER in statuses[-1]):
                await asyncio.sleep(0.5)
        finally:
            stop.set()
            await asker
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    assert not [s for s in statuses if s.startswith("FAILED")], statuses[-3:]
    assert statuses and MARKER in statuses[-1], (tmp_path / "actions.log").read_text()[-2000:]
