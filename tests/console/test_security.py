"""Issue 13, staff console: keys never become paths, `next` stays local, Secure cookies, CSP, lockout by client."""
from __future__ import annotations

import re
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer

from knowledge import schema
from console import content, store, validation
from console.app import _safe_next, create_app
from console.lockout import Lockout, client_address, trusted_proxies

from .helpers import CSRF, EDITOR
from .test_content import _form

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


async def test_a_key_that_is_a_path_is_refused_and_writes_nothing(editor, console_env, tmp_path):
    marker = "x" + uuid.uuid4().hex[:8]
    form = _form(console_env["kb"])
    for key in (f"../../../../{tmp_path.name}/{marker}", f"../{marker}", "Khai Sinh", "a/b", "..", "khai_sinh.yml"):
        form.update({"_csrf": editor.csrf, "_base": "", "key": key})
        resp = await editor.post("/procedures/new", data=form, allow_redirects=False)
        assert resp.status == 422, key
        assert validation.KEY_RULE in await resp.text()
        assert store.latest(f"procedure:{key}") is None
    assert not list(tmp_path.parent.glob(f"**/{marker}*")), "a file was written outside the knowledge folder"


def test_the_repository_and_the_validator_refuse_paths_outside_the_folder(console_env):
    kb = console_env["kb"]
    repo = content.Repository(kb)
    with pytest.raises(ValueError):
        repo.save("procedure", "../evil", {"key": "../evil"}, "Lan", None)
    with pytest.raises(ValueError):
        content.inside(kb, "procedures/../../evil.yml")
    assert content.inside(kb, "procedures/khai_sinh.yml") == (kb / "procedures" / "khai_sinh.yml").resolve()
    with pytest.raises(ValueError):
        schema.validate_with(kb, {"procedures/../../../evil.yml": "key: evil\n"})


@pytest.mark.parametrize("target", [
    "//evil.example/x", "/\t/evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
    "javascript:alert(1)", "/\n/evil.example", " /x", "evil.example", "/%09/evil.example\\", "",
    "/ok\x00", "http:/evil.example",
])
def test_next_is_only_ever_a_local_path(target):
    assert _safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/procedures/khai_sinh", "/handoffs?ok=sent", "/try?q=khai+sinh"])
def test_local_paths_are_kept(target):
    assert _safe_next(target) == target


async def _login(client: TestClient, password: str, next_: str = "/", headers=None):
    page = await (await client.get("/login")).text()
    token = CSRF.search(page).group(1)
    return await client.post("/login", data={"username": EDITOR["username"], "password": password,
                                             "_csrf": token, "next": next_},
                             headers=headers or {}, allow_redirects=False)


async def test_a_tab_in_next_does_not_redirect_off_site(anon):
    resp = await _login(anon, EDITOR["password"], "/\t/evil.example")
    assert resp.status == 302 and resp.headers["Location"] == "/"


async def test_cookies_are_secure_unless_explicitly_turned_off(console_env, monkeypatch):
    monkeypatch.delenv("CONSOLE_SECURE_COOKIES")
    app = create_app(console_env["cfg"], rasa_url="http://127.0.0.1:9", rasa_token="")
    async with TestClient(TestServer(app)) as client:
        login_page = await client.get("/login")
        assert "Secure" in login_page.headers["Set-Cookie"]
        # The test client will not send a Secure cookie back over HTTP: set it by hand, as a browser on HTTPS.
        token = login_page.cookies["console_login_csrf"].value
        csrf = CSRF.search(await login_page.text()).group(1)
        resp = await client.post("/login", data={"username": EDITOR["username"], "password": EDITOR["password"],
                                                 "_csrf": csrf}, cookies={"console_login_csrf": token},
                                 allow_redirects=False)
        assert resp.status == 302
        session = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("console_session="))
        assert "Secure" in session and "HttpOnly" in session and "SameSite=Lax" in session
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_every_answer_has_a_csp_and_the_page_script_carries_its_nonce(anon, editor):
    page = await anon.get("/login")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in \
        csp.split("script-src", 1)[1].split(";", 1)[0]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    api = await anon.get("/procedures", headers={"Accept": "application/json"})
    assert api.status == 401 and "default-src 'none'" in api.headers["Content-Security-Policy"]
    publish = await editor.get("/publish")
    nonce = NONCE.search(publish.headers["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in await publish.text()
    again = await editor.get("/publish")
    assert NONCE.search(again.headers["Content-Security-Policy"]).group(1) != nonce  # fresh per response


def test_client_address_trusts_forwarded_for_only_from_a_trusted_proxy():
    proxies = trusted_proxies({"CONSOLE_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"})
    assert client_address("127.0.0.1", "203.0.113.5", proxies) == "203.0.113.5"
    assert client_address("127.0.0.1", "198.51.100.1, 203.0.113.5, 10.1.2.3", proxies) == "203.0.113.5"
    assert client_address("198.51.100.7", "203.0.113.5", proxies) == "198.51.100.7"  # an untrusted peer's claim
    assert client_address("127.0.0.1", "not-an-ip", proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", "203.0.113.5", []) == "127.0.0.1"


async def test_behind_a_trusted_proxy_the_lockout_is_per_citizen_address(console_env, monkeypatch):
    monkeypatch.setenv("CONSOLE_TRUSTED_PROXIES", "127.0.0.1,::1")
    app = create_app(console_env["cfg"], rasa_url="http://127.0.0.1:9", rasa_token="")
    async with TestClient(TestServer(app)) as client:
        guesser = {"X-Forwarded-For": "203.0.113.5"}
        for i in range(5):
            assert (await _login(client, f"sai-{i}", headers=guesser)).status == 401
        assert (await _login(client, EDITOR["password"], headers=guesser)).status == 429
        # The officer behind the same proxy, from another address, is not locked out by the guesser.
        assert (await _login(client, EDITOR["password"], headers={"X-Forwarded-For": "198.51.100.9"})).status == 302


async def test_the_lockout_is_shared_through_redis(redis_base_url):
    one = Lockout(2, 60, redis_base_url)
    two = Lockout(2, 60, redis_base_url)
    key = Lockout.key("lan", "203.0.113." + uuid.uuid4().hex[:3])
    try:
        await one.failed(key)
        assert await two.wait_seconds(key) == 0
        await two.failed(key)
        assert 0 < await one.wait_seconds(key) <= 60
        await one.reset(key)
        assert await two.wait_seconds(key) == 0
    finally:
        await one.reset(key)
        for lock in (one, two):
            if lock._client is not None:
                await lock._client.close()
