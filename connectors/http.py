"""Outbound HTTP for the send APIs: one lazily created aiohttp session, timeouts, bounded retries.

Platforms report errors differently (Zalo: HTTP 200 with a negative ``error``; Meta: an ``error`` object), so
the caller passes a ``classify`` function that maps an answer to an Outcome. Nothing here raises into a turn.
"""
from __future__ import annotations

import asyncio
import enum
import logging
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import aiohttp

from connectors.logsafe import mask
from infra.retry import RetryPolicy

logger = logging.getLogger(__name__)


class Outcome(enum.Enum):
    """What to do with an answer from a platform."""

    OK = "ok"
    RETRY = "retry"  # rate limit, 5xx, timeout: retry with backoff
    AUTH = "auth"  # token invalid/expired: the caller may refresh and retry once
    FINAL = "final"  # permanent: record and give up


@dataclass
class HttpResult:
    """The final answer of a (possibly retried) request."""

    outcome: Outcome
    status: int = 0
    body: Any = None
    code: Optional[str] = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        """True when the platform accepted the request."""
        return self.outcome is Outcome.OK


Classifier = Callable[[int, Any], Tuple[Outcome, Optional[str]]]

# Permanent send failures per (platform, code): logged and counted so operators can see them.
FAILURES: Counter = Counter()

# One session per event loop: a session is bound to its loop, and the connectors use two (Sanic's and the turn
# loop, see connectors/turns.py); test runners start a new loop per test.
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession]" = (
    weakref.WeakKeyDictionary())


async def get_session() -> aiohttp.ClientSession:
    """The running loop's ClientSession, created on first use."""
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=15, connect=5),
            connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
        )
        _sessions[loop] = session
    return session


async def close_session() -> None:
    """Close the running loop's session (on shutdown)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None and not session.closed:
        await session.close()


def record_failure(platform: str, code: Optional[str], detail: Any) -> None:
    """Log and count a permanent send failure (never retried)."""
    FAILURES[(platform, str(code))] += 1
    logger.warning("%s send failed permanently (code %s): %s", platform, code, mask(str(detail))[:500])


async def request(
    method: str,
    url: str,
    classify: Classifier,
    *,
    platform: str,
    policy: Optional[RetryPolicy] = None,
    **kwargs: Any,
) -> HttpResult:
    """Send a request, retrying RETRY outcomes with backoff; returns the last result, never raises."""
    policy = policy or RetryPolicy()
    result = HttpResult(Outcome.RETRY)
    for attempt in range(1, policy.max_attempts + 1):
        result.attempts = attempt
        try:
            session = await get_session()
            async with session.request(
                method, url, timeout=aiohttp.ClientTimeout(total=policy.timeout), **kwargs
            ) as resp:
                status = resp.status
                try:
                    body: Any = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    body = await resp.text()
            outcome, code = classify(status, body)
            result = HttpResult(outcome, status, body, code, attempt)
        except asyncio.CancelledError:
            raise
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
            result = HttpResult(Outcome.RETRY, 0, None, type(exc).__name__, attempt)
        except Exception as exc:  # a bug in classify or an odd answer: do not loop on it
            result = HttpResult(Outcome.FINAL, 0, None, type(exc).__name__, attempt)
            logger.exception("%s request crashed", platform)
        if result.outcome is not Outcome.RETRY or attempt >= policy.max_attempts:
            return result
        logger.info("%s send: attempt %d failed (code %s), retrying", platform, attempt, result.code)
        await policy.wait(attempt)
    return result


def env_policy(env: Dict[str, str]) -> RetryPolicy:
    """A RetryPolicy tuned by CONNECTOR_MAX_ATTEMPTS / CONNECTOR_RETRY_BASE_DELAY / CONNECTOR_HTTP_TIMEOUT."""
    return RetryPolicy(
        max_attempts=int(env.get("CONNECTOR_MAX_ATTEMPTS", "4")),
        base_delay=float(env.get("CONNECTOR_RETRY_BASE_DELAY", "0.5")),
        timeout=float(env.get("CONNECTOR_HTTP_TIMEOUT", "10")),
    )
