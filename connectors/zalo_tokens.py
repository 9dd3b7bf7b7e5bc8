"""Zalo OA access/refresh token pair: persisted storage, cross-process lock, rotation.

Zalo's refresh token is single-use and rotates on every refresh. The new pair is persisted before the new
access token is used, and refreshes are serialised by a lock shared by all processes (Redis) so two
instances never spend the same refresh token. Without Redis the lock is an asyncio.Lock: one process only.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

from connectors import http
from connectors.stores import redis_from_env
from infra.retry import RetryPolicy

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
# Refresh this long before the announced expiry (tokens live ~25 h).
REFRESH_MARGIN_SECONDS = 600.0
# Waiting for another process's refresh (a second or so): tries 50 ms apart at first, then up to 0.5 s; the
# lock's wait_seconds, not the attempts, bounds it.
LOCK_WAIT = RetryPolicy(max_attempts=10_000, base_delay=0.05, max_delay=0.5)
# The refresh request itself: rate limits and 5xx retried a few times.
REFRESH_POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, timeout=10)


@dataclass
class TokenPair:
    """An access token, its refresh token and the access token's expiry (epoch seconds, 0 = unknown)."""

    access_token: str
    refresh_token: str
    expires_at: float = 0.0


class FileTokenStore:
    """Token pair in a local JSON file (written atomically), for single-process deployments."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _read(self) -> Optional[TokenPair]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return TokenPair(str(data["access_token"]), str(data["refresh_token"]),
                             float(data.get("expires_at") or 0))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write(self, pair: TokenPair) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=str(self.path.parent), prefix=".zalo-tokens-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(pair), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    async def load(self) -> Optional[TokenPair]:
        """The stored pair, or None."""
        return await asyncio.to_thread(self._read)

    async def save(self, pair: TokenPair) -> None:
        """Persist ``pair`` durably."""
        await asyncio.to_thread(self._write, pair)


class RedisTokenStore:
    """Token pair in a Redis hash shared by every process."""

    def __init__(self, client: Any, key: str) -> None:
        self.client = client
        self.key = key

    async def load(self) -> Optional[TokenPair]:
        """The stored pair, or None."""
        data = await self.client.hgetall(self.key)
        if not data or not data.get("refresh_token"):
            return None
        return TokenPair(data.get("access_token", ""), data["refresh_token"],
                         float(data.get("expires_at") or 0))

    async def save(self, pair: TokenPair) -> None:
        """Persist ``pair``."""
        await self.client.hset(self.key, mapping={k: str(v) for k, v in asdict(pair).items()})


_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


class RedisLock:
    """SET NX PX lock with an owner token; released only by its owner."""

    def __init__(self, client: Any, key: str, ttl_ms: int = 30000, wait_seconds: float = 35.0) -> None:
        self.client, self.key, self.ttl_ms, self.wait_seconds = client, key, ttl_ms, wait_seconds
        self._token = ""

    async def __aenter__(self) -> "RedisLock":
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self.wait_seconds
        attempt = 0
        while not await self.client.set(self.key, token, nx=True, px=self.ttl_ms):
            attempt += 1
            if not await LOCK_WAIT.wait(attempt, deadline):
                raise TimeoutError(f"could not take lock {self.key}")
        self._token = token
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.eval(_RELEASE, 1, self.key, self._token)


class ZaloTokenManager:
    """Hands out a valid access token and refreshes it (proactively or after -216/-220) safely."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        access_token: str,
        refresh_token: str,
        oauth_base: str = "https://oauth.zaloapp.com",
        redis_url: Optional[str] = None,
        token_file: Optional[Path] = None,
        policy: Optional[RetryPolicy] = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.oauth_base = oauth_base.rstrip("/")
        self._initial = TokenPair(access_token, refresh_token, 0.0)
        self._redis_url = redis_url
        self._token_file = token_file or Path(
            os.environ.get("ZALO_TOKEN_FILE", REPO_ROOT / "var" / f"zalo_tokens_{app_id}.json")
        )
        self._store: Any = None
        self._client: Any = None
        self._local_lock = asyncio.Lock()
        self._policy = policy or REFRESH_POLICY
        self.refresh_count = 0

    def _ensure_store(self) -> Any:
        if self._store is None:
            self._client = redis_from_env(self._redis_url)
            if self._client is not None:
                self._store = RedisTokenStore(self._client, f"chatbot:zalo:tokens:{self.app_id}")
            else:
                self._store = FileTokenStore(self._token_file)
        return self._store

    def _lock(self) -> Any:
        self._ensure_store()
        if self._client is not None:
            return RedisLock(self._client, f"chatbot:zalo:tokens:{self.app_id}:lock")
        return self._local_lock

    async def aclose(self) -> None:
        """Close the Redis connection pool, if one was opened."""
        if self._client is not None:
            await self._client.close(close_connection_pool=True)
        self._client, self._store = None, None

    async def current(self) -> TokenPair:
        """The stored pair (the configured one until the first refresh)."""
        pair = await self._ensure_store().load()
        return pair or self._initial

    async def access_token(self) -> str:
        """A usable access token, refreshed first when it is about to expire."""
        pair = await self.current()
        if pair.expires_at and pair.expires_at - REFRESH_MARGIN_SECONDS < time.time():
            refreshed = await self.refresh(pair.access_token)
            if refreshed:
                return refreshed
        return pair.access_token

    async def refresh(self, stale_access_token: str) -> Optional[str]:
        """Replace ``stale_access_token``; returns the new access token or None when refreshing failed."""
        try:
            async with self._lock():
                pair = await self.current()
                # Another process (or task) refreshed while we waited: use its token, keep its refresh token.
                if pair.access_token != stale_access_token and pair.access_token and (
                    not pair.expires_at or pair.expires_at - REFRESH_MARGIN_SECONDS > time.time()
                ):
                    return pair.access_token
                new_pair = await self._call_refresh(pair.refresh_token)
                if new_pair is None:
                    return None
                # Persist before use: the old refresh token is already spent.
                await self._ensure_store().save(new_pair)
                self.refresh_count += 1
                logger.info("zalo access token refreshed (expires in %.0f s)",
                            new_pair.expires_at - time.time())
                return new_pair.access_token
        except Exception:
            logger.exception("zalo token refresh failed")
            return None

    async def _call_refresh(self, refresh_token: str) -> Optional[TokenPair]:
        def classify(status: int, body: Any) -> Any:
            if status >= 500 or status == 429:
                return http.Outcome.RETRY, str(status)
            if isinstance(body, dict) and body.get("access_token") and body.get("refresh_token"):
                return http.Outcome.OK, None
            code = body.get("error") if isinstance(body, dict) else status
            return http.Outcome.FINAL, str(code)

        result = await http.request(
            "POST", f"{self.oauth_base}/v4/oa/access_token", classify, platform="zalo-oauth",
            policy=self._policy,
            data={"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"},
            headers={"secret_key": self.app_secret},
        )
        if not result.ok:
            body = result.body if isinstance(result.body, dict) else {}
            # Never log the tokens themselves; the error fields carry no secrets.
            http.record_failure("zalo-oauth", result.code, {k: body.get(k) for k in ("error", "error_name",
                                                                                    "error_reason")})
            return None
        body = result.body
        try:
            expires_in = float(str(body.get("expires_in") or "0"))
        except ValueError:
            expires_in = 0.0
        return TokenPair(str(body["access_token"]), str(body["refresh_token"]),
                         time.time() + expires_in if expires_in > 0 else 0.0)
