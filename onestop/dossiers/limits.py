"""Dossier lookups per sender, limited: a code alone shows only a status, but codes must not be enumerated.

Every lookup of a code by a conversation counts (shared in Redis with REDIS_URL); past DOSSIER_LOOKUPS_PER_SENDER
lookups (10) within DOSSIER_LOOKUP_WINDOW_SECONDS of the previous one (10 minutes, sliding), the bot stops looking
codes up for that conversation and points to the one-stop office. A citizen checks one or two codes; a script
trying codes gets 10 and then nothing until it stops for 10 minutes.
"""
from __future__ import annotations

import hashlib
import os
from typing import Mapping, Optional

from onestop.dossiers.ownership import AttemptStore, MemoryAttemptStore, make_attempt_store

DEFAULT_MAX_LOOKUPS = 10
DEFAULT_WINDOW_SECONDS = 10 * 60
LIMITED = ("Anh/chị đã tra cứu nhiều mã hồ sơ trong thời gian ngắn, nên tôi tạm dừng tra cứu cho cuộc trò chuyện "
           "này. Anh/chị vui lòng thử lại sau ít phút, hoặc mang giấy tiếp nhận và hẹn trả kết quả đến bộ phận một "
           "cửa nơi đã nộp hồ sơ để được hỗ trợ.")


class LookupLimiter:
    """Counts lookups per sender in an AttemptStore."""

    def __init__(self, store: Optional[AttemptStore] = None, *, max_lookups: int = DEFAULT_MAX_LOOKUPS,
                 window_seconds: int = DEFAULT_WINDOW_SECONDS) -> None:
        self.store = store or MemoryAttemptStore()
        self.max_lookups = max_lookups
        self.window_seconds = window_seconds

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "LookupLimiter":
        """Configured by REDIS_URL, DOSSIER_LOOKUPS_PER_SENDER and DOSSIER_LOOKUP_WINDOW_SECONDS."""
        env = os.environ if env is None else env
        return cls(make_attempt_store(env),
                   max_lookups=int(env.get("DOSSIER_LOOKUPS_PER_SENDER") or DEFAULT_MAX_LOOKUPS),
                   window_seconds=int(env.get("DOSSIER_LOOKUP_WINDOW_SECONDS") or DEFAULT_WINDOW_SECONDS))

    @staticmethod
    def _key(sender_id: str) -> str:
        return "lookup:" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:40]

    async def allow(self, sender_id: str) -> bool:
        """Count one lookup for ``sender_id``; False once over the limit (BackendUnavailable if Redis fails)."""
        count = await self.store.add_failure(self._key(sender_id), self.window_seconds)
        return count <= self.max_lookups


_limiter: Optional[LookupLimiter] = None


def limiter() -> LookupLimiter:
    """The process-wide lookup limiter (Redis-backed when REDIS_URL is set)."""
    global _limiter
    if _limiter is None:
        _limiter = LookupLimiter.from_env()
    return _limiter
