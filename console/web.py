"""What every console page shares: roles, the application's keys, templates, rendering and security headers.

The views (views.py, catalogue_views.py) and the application (app.py) import it; it imports neither.
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

import jinja2
from aiohttp import web
from multidict import MultiDictProxy

from infra.clock import now_local, to_local
from knowledge.config import Config

from console.content import Repository
from console.lockout import Lockout
from console.publish import Publisher

PUBLIC = "public"        # reachable without signing in (the sign-in page only)
VIEW = "view"            # any signed-in officer
EDIT = "edit"            # editors only

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONFIG = web.AppKey("config", Config)
REPO = web.AppKey("repo", Repository)
PUBLISHER = web.AppKey("publisher", Publisher)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
SETTINGS = web.AppKey("settings", dict)
FAILURES = web.AppKey("failures", Lockout)


def access(level: str) -> Callable[[Handler], Handler]:
    """Declare who may call a handler (PUBLIC, VIEW or EDIT); undeclared handlers are refused."""
    def mark(handler: Handler) -> Handler:
        handler.access = level  # type: ignore[attr-defined]
        return handler
    return mark


def officer(request: web.Request) -> Any:
    """The signed-in officer (a console.store.User) of a request the auth middleware let through."""
    return request["session"]["user"]


def today() -> dt.date:
    """Today in Vietnam (the one clock)."""
    return now_local().date()


def form_dict(form: MultiDictProxy) -> Dict[str, str]:
    """A posted form as plain strings, without the CSRF token."""
    return {k: str(v) for k, v in form.items() if k != "_csrf"}


def not_found(request: web.Request, what: str) -> web.Response:
    """The 404 page with what was not found."""
    return render(request, "error.html", status=404, title="Không tìm thấy", message=what)


def local_time(value: Optional[dt.datetime]) -> str:
    """A stored UTC time as officers read it (Vietnam time)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return to_local(value).strftime("%H:%M %d/%m/%Y")


def templates() -> jinja2.Environment:
    """The Jinja environment of the console's templates (escaping on)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                             autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["localtime"] = local_time
    return env


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    """Render a page with the signed-in officer, the CSRF token and the flash message."""
    session = request.get("session") or {}
    context.setdefault("user", session.get("user"))
    context.setdefault("csrf", session.get("csrf", ""))
    context.setdefault("flash", FLASH.get(request.query.get("ok", ""), ""))
    context.setdefault("path", request.path)
    nonce = secrets.token_urlsafe(16)
    context.setdefault("csp_nonce", nonce)
    html = request.app[TEMPLATES].get_template(name).render(**context)
    # Scripts only from here or carrying this response's nonce: an injected <script> never runs.
    csp = (f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return web.Response(text=html, content_type="text/html", status=status,
                        headers={**_SECURITY_HEADERS, "Content-Security-Policy": csp})


_SECURITY_HEADERS = {
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# Every other answer (JSON, redirects, errors) may not be framed or run anything either.
_DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Security headers on every answer (pages set their own CSP with a nonce in render)."""
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Content-Security-Policy", _DEFAULT_CSP)
    if request.app[SETTINGS]["secure_cookies"]:  # served over HTTPS: tell browsers to stay on it
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")

FLASH = {
    "saved": "Đã lưu phiên bản mới. Nội dung chỉ đến với người dân sau khi xuất bản.",
    "created": "Đã tạo. Nội dung chỉ đến với người dân sau khi xuất bản.",
    "reverted": "Đã quay lại phiên bản cũ (lưu thành phiên bản mới). Hãy xuất bản để áp dụng.",
    "attached": "Đã gắn câu hỏi vào thủ tục. Hãy xuất bản để bot dùng cách hỏi này.",
    "dismissed": "Đã bỏ qua nhóm câu hỏi.",
    "taken": "Anh/chị đã nhận cuộc trò chuyện này.",
    "sent": "Đã gửi trả lời cho người dân.",
    "closed": "Đã kết thúc; bot tiếp tục trả lời người dân.",
    "called": "Đã đánh dấu: cán bộ đã gọi lại cho người dân.",
    "signedout": "Anh/chị đã đăng xuất.",
}
