"""Zalo Notification Service (ZNS) client: one approved template message to one phone number.

    POST {ZNS_API_URL}/message/template        header access_token: <OA access token>
    {"phone": "84912345678", "template_id": "123456", "template_data": {...}, "tracking_id": "..."}
    -> {"error": 0, "message": "Success", "data": {"msg_id": "...", "sent_time": "...", "quota": {...}}}

Errors come as HTTP 200 with a negative ``error`` (zalo.cloud/zns/guidelines/handle-error-code): -100 unknown
(try again later) is retried with infra.retry; -124 invalid access token asks the token provider once more (the
connector may have rotated it) and retries once; everything else (-108 bad phone, -109 bad template id,
-111/-112 bad template data, quota, user cannot receive, unknown codes) is final: recorded, never looped on.
A timeout is final too: the message may have gone, and a second one would be charged and seen twice.
"""
from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Tuple

import aiohttp

from infra.retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://business.openapi.zalo.me"
SEND_PATH = "/message/template"
RETRY_CODES = frozenset({-100})
AUTH_CODES = frozenset({-124})
CODE_NAMES = {-100: "unknown_error", -108: "phone_invalid", -109: "template_id_invalid",
              -111: "template_data_empty", -112: "template_data_invalid", -124: "access_token_invalid"}

TokenProvider = Callable[[], Awaitable[Optional[str]]]


class Outcome(enum.Enum):
    """What to do with an answer from ZNS."""

    OK = "ok"
    RETRY = "retry"
    AUTH = "auth"
    FINAL = "final"


@dataclass
class ZnsResult:
    """The final answer of one (possibly retried) send."""

    outcome: Outcome
    code: Optional[str] = None       # ZNS error code, "http503", "timeout", ...
    msg_id: Optional[str] = None
    attempts: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when ZNS accepted the message."""
        return self.outcome is Outcome.OK

    @property
    def detail(self) -> str:
        """Short text for the notifications table: the code, its name and ZNS's message."""
        if self.ok:
            return f"msg_id {self.msg_id}"
        try:
            name = CODE_NAMES.get(int(self.code or ""), "")
        except ValueError:
            name = ""
        return " ".join(x for x in (f"zns {self.code}", name, self.message[:150]) if x)


def classify_zns(status: int, body: Any) -> Tuple[Outcome, Optional[str]]:
    """Map a ZNS answer to an Outcome and a code (errors arrive as HTTP 200 with a negative ``error``)."""
    if status == 429 or status >= 500:
        return Outcome.RETRY, f"http{status}"
    if not isinstance(body, dict):
        return Outcome.FINAL, f"http{status}"
    try:
        code = int(body.get("error", 0 if status == 200 else status))
    except (TypeError, ValueError):
        code = -1
    if code == 0 and status < 400:
        return Outcome.OK, None
    if code in RETRY_CODES:
        return Outcome.RETRY, str(code)
    if code in AUTH_CODES:
        return Outcome.AUTH, str(code)
    return Outcome.FINAL, str(code)


def zns_phone(phone: str) -> str:
    """``0912345678`` -> ``84912345678`` (the international form without +, as ZNS documents)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("0"):
        return "84" + digits[1:]
    return digits


def env_token_provider(env: Optional[Mapping[str, str]] = None) -> Optional[TokenProvider]:
    """The OA access token, read on every send so that a token the Zalo connector rotated is picked up:
    ZNS_ACCESS_TOKEN, else the connector's Redis hash (REDIS_URL + ZALO_APP_ID, key ZNS_TOKEN_REDIS_KEY or
    ``chatbot:zalo:tokens:<app id>``), else its token file (ZNS_TOKEN_FILE or ZALO_TOKEN_FILE, JSON with
    ``access_token``), else ZALO_ACCESS_TOKEN (the initial token, valid about 25 h). None when none is set."""
    env = dict(os.environ if env is None else env)
    fixed = env.get("ZNS_ACCESS_TOKEN")
    redis_url = env.get("REDIS_URL") if env.get("ZALO_APP_ID") or env.get("ZNS_TOKEN_REDIS_KEY") else None
    redis_key = env.get("ZNS_TOKEN_REDIS_KEY") or f"chatbot:zalo:tokens:{env.get('ZALO_APP_ID', '')}"
    file = env.get("ZNS_TOKEN_FILE") or env.get("ZALO_TOKEN_FILE")
    fallback = env.get("ZALO_ACCESS_TOKEN")
    if not (fixed or redis_url or file or fallback):
        return None

    def from_file() -> Optional[str]:
        try:
            token = json.loads(Path(file or "").read_text(encoding="utf-8")).get("access_token")
            return str(token) if token else None
        except (OSError, ValueError, AttributeError):
            log.warning("cannot read the Zalo token file %s", file)
            return None

    async def from_redis() -> Optional[str]:
        import redis.asyncio as aioredis  # lazy: only with Redis configured

        client = aioredis.from_url(redis_url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        try:
            return await client.hget(redis_key, "access_token") or None
        except Exception as exc:  # noqa: BLE001 - fall back to the other sources
            log.warning("cannot read the Zalo token from Redis (%s)", type(exc).__name__)
            return None
        finally:
            await client.close(close_connection_pool=True)

    async def provide() -> Optional[str]:
        if fixed:
            return fixed
        token = await from_redis() if redis_url else None
        if not token and file:
            token = await asyncio.to_thread(from_file)
        return token or fallback

    return provide


class ZnsClient:
    """Sends template messages; retries what may be retried, never raises."""

    def __init__(self, token: TokenProvider, *, base_url: str = DEFAULT_API_URL,
                 policy: Optional[RetryPolicy] = None) -> None:
        self.token = token
        self.url = base_url.rstrip("/") + SEND_PATH
        self.policy = policy or RetryPolicy(max_attempts=3, base_delay=1.0, timeout=10.0)
        self._session: Optional[aiohttp.ClientSession] = None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["ZnsClient"]:
        """A client when ZNS_ENABLED=1 and a token source is set (see env_token_provider); else None."""
        env = dict(os.environ if env is None else env)
        if (env.get("ZNS_ENABLED") or "").lower() not in ("1", "true", "yes"):
            return None
        provider = env_token_provider(env)
        if provider is None:
            log.error("ZNS_ENABLED is set but no access token is configured (ZNS_ACCESS_TOKEN, ZALO_TOKEN_FILE or "
                      "ZALO_ACCESS_TOKEN): ZNS messages will be skipped")
            return None
        policy = RetryPolicy(max_attempts=int(env.get("ZNS_MAX_ATTEMPTS", "3")),
                             base_delay=float(env.get("ZNS_RETRY_BASE_DELAY", "1.0")),
                             timeout=float(env.get("ZNS_HTTP_TIMEOUT", "10")))
        return cls(provider, base_url=env.get("ZNS_API_URL") or DEFAULT_API_URL, policy=policy)

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _post(self, token: str, body: Dict[str, Any], attempt: int) -> ZnsResult:
        try:
            session = await self._http()
            async with session.post(self.url, json=body, headers={"access_token": token},
                                    timeout=aiohttp.ClientTimeout(total=self.policy.timeout)) as resp:
                status = resp.status
                try:
                    answer: Any = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    answer = None
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientConnectorError as exc:  # never connected: surely not sent
            return ZnsResult(Outcome.RETRY, type(exc).__name__, attempts=attempt)
        except asyncio.TimeoutError:
            return ZnsResult(Outcome.FINAL, "timeout", attempts=attempt, message="may have been delivered")
        except (aiohttp.ClientError, OSError) as exc:
            return ZnsResult(Outcome.FINAL, type(exc).__name__, attempts=attempt)
        outcome, code = classify_zns(status, answer)
        data = answer.get("data") if isinstance(answer, dict) else None
        return ZnsResult(outcome, code, str((data or {}).get("msg_id") or "") or None, attempt,
                         str(answer.get("message") or "") if isinstance(answer, dict) else "")

    async def send(self, phone: str, template_id: str, data: Mapping[str, str], tracking_id: str) -> ZnsResult:
        """Send one template message to ``phone`` (0xxxxxxxxx or 84xxxxxxxxx)."""
        token = await self.token()
        if not token:
            return ZnsResult(Outcome.FINAL, "no_token", message="no access token")
        body = {"phone": zns_phone(phone), "template_id": str(template_id), "template_data": dict(data),
                "tracking_id": tracking_id}
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            result = await self._post(token, body, attempt)
            if result.outcome is Outcome.AUTH and not refreshed:
                refreshed = True
                fresh = await self.token()
                if fresh and fresh != token:
                    token = fresh
                    continue
            if result.outcome is Outcome.AUTH:
                result.outcome = Outcome.FINAL
            if result.outcome is not Outcome.RETRY:
                return result
            if not await self.policy.wait(attempt):
                result.outcome = Outcome.FINAL
                return result
            log.info("zns send: retry %d (code %s)", attempt, result.code)

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
