"""Sign-in, sessions, CSRF and roles: every route refuses an anonymous request, and a viewer's write."""
from __future__ import annotations

import datetime as dt
import re
from typing import List, Tuple

import sqlalchemy as sa

from console import store

from .helpers import CSRF, EDITOR, sign_in

SAMPLE = {"kind": "procedures", "key": "khai_sinh", "number": "1", "sender": "zalo-123", "id": "1.001766",
          "ticket": "1"}
PUBLIC = {("GET", "/login"), ("POST", "/login")}
# Signing out is not a write: a viewer may do it.
NOT_A_WRITE = {("POST", "/logout")}


def all_routes(app) -> List[Tuple[str, str]]:
    """(method, concrete path) of every route of the app, placeholders filled with sample values."""
    out = []
    for route in app.router.routes():
        if route.method == "HEAD":
            continue
        canonical = route.resource.canonical
        path = re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: SAMPLE[m.group(1)], canonical)
        out.append((route.method, path))
    return out


def test_route_table_is_what_we_expect(app):
    routes = all_routes(app)
    assert len(routes) >= 22
    assert ("POST", "/procedures/khai_sinh") in routes and ("POST", "/publish") in routes


async def test_every_route_refuses_an_anonymous_request(app, anon):
    for method, path in all_routes(app):
        if (method, path) in PUBLIC:
            continue
        resp = await anon.request(method, path, allow_redirects=False, data={"_csrf": "x"})
        if method == "GET":
            assert resp.status == 302, (method, path, resp.status)
            assert resp.headers["Location"].startswith("/login?next="), (method, path)
        else:
            assert resp.status == 401, (method, path, resp.status)
    # an unknown address tells nothing before signing in either
    resp = await anon.get("/khong-co-trang-nay", allow_redirects=False)
    assert resp.status == 302


async def test_every_write_refuses_a_viewer(app, viewer, console_env):
    before = _version_count()
    for method, path in all_routes(app):
        if method != "POST" or (method, path) in PUBLIC | NOT_A_WRITE:
            continue
        resp = await viewer.post(path, data={"_csrf": viewer.csrf, "_base": "1", "ids": "1", "procedure": "khai_sinh",
                                             "as": "alias", "text": "x", "name": "X"}, allow_redirects=False)
        assert resp.status == 403, (path, resp.status)
        assert "chỉ có quyền xem" in await resp.text()
    assert _version_count() == before
    # ...while every page is readable
    for method, path in all_routes(app):
        # a hand-off or a national record that the test data lacks answers 404, which is not a refusal
        if method == "GET" and (method, path) not in PUBLIC and "/handoffs/" not in path \
                and "/catalogue/" not in path:
            resp = await viewer.get(path)
            assert resp.status == 200, (path, resp.status)


async def test_a_post_without_the_csrf_token_is_refused_even_for_an_editor(app, editor):
    for method, path in all_routes(app):
        if method != "POST" or (method, path) in PUBLIC:
            continue
        resp = await editor.post(path, data={"_csrf": "forged"}, allow_redirects=False)
        assert resp.status == 403, (path, resp.status)
        assert "Phiên làm việc của biểu mẫu" in await resp.text()


async def test_wrong_password_and_missing_fields_get_clear_answers(anon):
    page = await (await anon.get("/login")).text()
    token = CSRF.search(page).group(1)
    resp = await anon.post("/login", data={"username": "lan", "password": "sai-mat-khau", "_csrf": token})
    assert resp.status == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in await resp.text()
    token = CSRF.search(await resp.text()).group(1)
    resp = await anon.post("/login", data={"username": "", "password": "", "_csrf": token})
    assert resp.status == 400 and "vui lòng nhập tên đăng nhập" in await resp.text()
    resp = await anon.post("/login", data={"username": "lan", "password": EDITOR["password"], "_csrf": "cu"})
    assert resp.status == 403  # the sign-in form's own CSRF check


async def test_session_cookie_flags_and_no_open_redirect(anon):
    page = await (await anon.get("/login")).text()
    token = CSRF.search(page).group(1)
    resp = await anon.post("/login", data={"username": EDITOR["username"], "password": EDITOR["password"],
                                           "_csrf": token, "next": "//evil.example/x"}, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/"
    cookie = resp.headers.getall("Set-Cookie")
    session = next(c for c in cookie if c.startswith("console_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session


async def test_an_expired_session_signs_out(anon):
    await sign_in(anon, EDITOR)
    assert (await anon.get("/procedures", allow_redirects=False)).status == 200
    with store.engine().begin() as conn:
        conn.execute(store.sessions.update().values(
            expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
    resp = await anon.get("/procedures", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login")


async def test_sign_out_ends_the_session_on_the_server(editor):
    token = editor.session.cookie_jar.filter_cookies(editor.make_url("/"))["console_session"].value
    resp = await editor.post("/logout", data={"_csrf": editor.csrf}, allow_redirects=False)
    assert resp.status == 302
    assert store.load_session(token) is None


def test_passwords_are_salted_scrypt_hashes(console_env):
    a, b = store.hash_password("cung-mot-mat-khau"), store.hash_password("cung-mot-mat-khau")
    assert a != b and a.startswith("scrypt$")
    assert store.check_password("cung-mot-mat-khau", a) and not store.check_password("khac", a)
    with store.engine().connect() as conn:
        stored = conn.execute(sa.select(store.users.c.password_hash)).scalars().all()
    assert all(EDITOR["password"] not in h for h in stored)


def test_adduser_command_reads_the_password_from_the_environment(console_env, monkeypatch, capsys):
    from console.__main__ import main

    monkeypatch.setenv("NEW_PASSWORD", "mot-mat-khau-dai")
    assert main(["adduser", "thu", "--role", "viewer", "--password-env", "NEW_PASSWORD"]) == 0
    assert store.authenticate("thu", "mot-mat-khau-dai").role == "viewer"
    monkeypatch.setenv("SHORT", "ngan")
    assert main(["adduser", "thu2", "--role", "editor", "--password-env", "SHORT"]) == 2
    assert "at least 8" in capsys.readouterr().err


def _version_count() -> int:
    with store.engine().connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(store.versions)).scalar_one()


async def test_unknown_pages_and_wrong_methods_get_a_vietnamese_answer(editor):
    resp = await editor.get("/khong-co-trang-nay")
    assert resp.status == 404 and "Không có trang này" in await resp.text()
    resp = await editor.get("/logout")
    assert resp.status == 405 and "chỉ làm được bằng nút" in await resp.text()
    resp = await editor.get("/procedures/khong_co")
    assert resp.status == 404 and "Không có thủ tục mã «khong_co»" in await resp.text()
    resp = await editor.get("/procedures/khai_sinh/diff/99")
    assert resp.status == 404 and "Không có phiên bản 99" in await resp.text()
    resp = await editor.get("/try", params={"q": "x" * 501})
    assert "dài quá 500 ký tự" in await resp.text()


async def test_repeated_wrong_passwords_lock_the_name_for_a_while(anon):
    for i in range(6):
        page = await (await anon.get("/login")).text()
        token = CSRF.search(page).group(1)
        resp = await anon.post("/login", data={"username": "lan", "password": f"doan-mo-{i}", "_csrf": token})
    assert resp.status == 429 and "nhập sai mật khẩu nhiều lần" in await resp.text()
    resp = await anon.post("/login", data={"username": "lan", "password": EDITOR["password"], "_csrf": token},
                           allow_redirects=False)
    assert resp.status == 429  # even the right password waits: guessing must not pay off
