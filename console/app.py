"""The console's aiohttp application: sign-in, sessions, CSRF and roles around the officers' pages."""
from __future__ import annotations

import hmac
import os
import secrets
from typing import Optional
from urllib.parse import quote

from aiohttp import web

from infra import rasa_api
from infra import db
from knowledge.config import Config, load_config

from console import catalogue_views, dashboard, store, views
from console.content import Repository
from console.lockout import Lockout, client_address, trusted_proxies
from console.publish import Publisher
from console.web import (CONFIG, EDIT, FAILURES, PUBLIC, PUBLISHER, REPO, SETTINGS, TEMPLATES, VIEW, Handler, access, render,
                  security_headers, templates)

COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
# Password guessing: after this many wrong passwords for one name from one address, wait this long.
MAX_FAILURES, LOCKOUT_SECONDS = 5, 15 * 60

def _forbidden(request: web.Request, message: str) -> web.Response:
    return render(request, "error.html", status=403, title="Không có quyền", message=message)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sessions, roles and CSRF for every route: nothing but the sign-in page answers an anonymous request."""
    level = getattr(handler, "access", None)
    if level is None and request.match_info.http_exception is not None:
        level = VIEW  # unknown URLs: still no answer (not even a 404) before signing in
    token = request.cookies.get(COOKIE, "")
    session = await db.run_sync(store.load_session, token) if token else None
    request["session"] = session
    if level == PUBLIC:
        return await handler(request)
    if session is None:
        if request.method == "GET" and "application/json" not in request.headers.get("Accept", ""):
            raise web.HTTPFound("/login?next=" + quote(request.path_qs, safe=""))
        return web.json_response({"error": "Anh/chị cần đăng nhập."}, status=401)
    if level not in (VIEW, EDIT):
        return _forbidden(request, "Trang này chưa được khai báo quyền truy cập.")
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        sent = str(form.get("_csrf", "")) or request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(sent.encode(), session["csrf"].encode()):
            return _forbidden(request, "Phiên làm việc của biểu mẫu đã hết hạn hoặc không hợp lệ. "
                                       "Anh/chị vui lòng tải lại trang rồi thao tác lại.")
    if level == EDIT and not session["user"].can_edit:
        return _forbidden(request, "Tài khoản của anh/chị chỉ có quyền xem. Vui lòng nhờ cán bộ biên tập thực hiện.")
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return render(request, "error.html", status=404, title="Không tìm thấy",
                      message="Không có trang này. Anh/chị kiểm tra lại đường dẫn hoặc dùng thanh điều hướng.")
    except web.HTTPMethodNotAllowed:
        return render(request, "error.html", status=405, title="Không thực hiện được",
                      message="Thao tác này chỉ làm được bằng nút trên trang, không mở trực tiếp bằng đường dẫn.")


# ----------------------------------------------------------------------------------------------- sign-in
@access(PUBLIC)
async def login_page(request: web.Request) -> web.Response:
    """The sign-in form (with a double-submit CSRF cookie: there is no session yet)."""
    # Reuse the cookie's token: another tab (or a stray request redirected here) must not invalidate this form.
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    resp = render(request, "login.html", login_csrf=token, next=request.query.get("next", "/"),
                  error="", username="")
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/login",
                    secure=request.app[SETTINGS]["secure_cookies"])
    return resp


def _safe_next(target: str) -> str:
    """Only a local path after signing in (no open redirect): "/x?y", never "//host", "/\\t/host", "\\", a scheme."""
    from urllib.parse import urlsplit

    if not target.startswith("/") or len(target) > 2000 or target[1:2] in ("/", "\\"):
        return "/"
    # Browsers drop tabs and newlines and read backslashes as slashes: "/\t/evil.example" is "//evil.example".
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7f for ch in target):
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


@access(PUBLIC)
async def login(request: web.Request) -> web.Response:
    """Check the password; start a session."""
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    target = _safe_next(str(form.get("next", "/")))
    if not cookie or not hmac.compare_digest(cookie.encode(), str(form.get("_csrf", "")).encode()):
        return _login_error(request, "Trang đăng nhập đã cũ. Anh/chị vui lòng thử lại.", username, target, 403)
    if not username or not password:
        return _login_error(request, "Anh/chị vui lòng nhập tên đăng nhập và mật khẩu.", username, target, 400)
    lockout = request.app[FAILURES]
    address = client_address(request.remote, request.headers.get("X-Forwarded-For"),
                             request.app[SETTINGS]["trusted_proxies"])
    who = Lockout.key(username, address)
    try:
        wait = await lockout.wait_seconds(who)
    except Exception:  # Redis unreachable: guesses cannot be counted, so no password is checked (fail closed)
        return _login_error(request, "Hệ thống đăng nhập đang tạm gián đoạn. Anh/chị vui lòng thử lại sau ít phút.",
                            username, target, 503)
    if wait:
        minutes = wait // 60 + 1
        return _login_error(request, f"Đã nhập sai mật khẩu nhiều lần. Anh/chị vui lòng thử lại sau {minutes} phút "
                                     "hoặc nhờ bộ phận kỹ thuật đặt lại mật khẩu.", username, target, 429)
    user = await db.run_sync(store.authenticate, username, password)
    if user is None:
        await lockout.failed(who)
        return _login_error(request, "Tên đăng nhập hoặc mật khẩu không đúng.", username, target, 401)
    await lockout.reset(who)
    token = await db.run_sync(store.create_session, user)
    resp = web.HTTPFound(target)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="Lax", path="/",
                    max_age=int(store.session_hours() * 3600), secure=request.app[SETTINGS]["secure_cookies"])
    resp.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise resp


def _login_error(request: web.Request, message: str, username: str, target: str, status: int) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    resp = render(request, "login.html", status=status, login_csrf=token, next=target, error=message,
                  username=username)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/login",
                    secure=request.app[SETTINGS]["secure_cookies"])
    return resp


@access(VIEW)
async def logout(request: web.Request) -> web.Response:
    """End the session."""
    await db.run_sync(store.end_session, request.cookies.get(COOKIE, ""))
    resp = web.HTTPFound("/login?ok=signedout")
    resp.del_cookie(COOKIE, path="/")
    raise resp


# ----------------------------------------------------------------------------------------------- app
def create_app(cfg: Optional[Config] = None, *, rasa_url: Optional[str] = None, rasa_token: Optional[str] = None,
               secure_cookies: Optional[bool] = None) -> web.Application:
    """The console application for the knowledge folder of ``cfg`` (default: the environment's configuration)."""
    cfg = cfg or load_config()
    app = web.Application(middlewares=[auth_middleware], client_max_size=2 * 1024 * 1024)
    app[CONFIG] = cfg
    app[REPO] = Repository(cfg.kb_dir)
    app[PUBLISHER] = Publisher(app[REPO], cfg.index_dir)
    app[TEMPLATES] = templates()
    # Wrong passwords per (name, client address): in Redis when REDIS_URL is set, else in this process.
    app[FAILURES] = Lockout(MAX_FAILURES, LOCKOUT_SECONDS, (os.environ.get("REDIS_URL") or "").strip() or None)
    app.on_response_prepare.append(security_headers)
    app[SETTINGS] = {
        "rasa_url": rasa_url or os.environ.get("RASA_URL", "http://localhost:5005"),
        "rasa_token": rasa_token if rasa_token is not None else rasa_api.rasa_token(),
        # Secure cookies by default (the console is served over HTTPS); only plain-HTTP localhost turns them off
        # with CONSOLE_SECURE_COOKIES=0 (make run does).
        "secure_cookies": secure_cookies if secure_cookies is not None
        else os.environ.get("CONSOLE_SECURE_COOKIES", "1").strip().lower() not in ("0", "false", "no", "off"),
        "trusted_proxies": trusted_proxies(),
    }
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout, name="logout")
    views.add_routes(app)
    catalogue_views.add_routes(app)
    dashboard.add_routes(app)
    return app
