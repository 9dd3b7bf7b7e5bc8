"""The one retry rule: bounded exponential backoff with jitter, never past a deadline.

Used by every outbound call that may meet a passing failure: the connectors' sends (connectors.http), a turn that
hit Redis while it restarted (connectors.faults), the one-stop system's API (onestop.dossiers.http_backend), the
notification senders. Callers decide what is worth retrying; this module only decides how long to wait.
"""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Optional


@dataclass
class RetryPolicy:
    """``max_attempts`` tries in all; the wait after try n is base_delay * 2**(n-1), capped, with jitter."""

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 10.0    # per attempt, for callers that make HTTP requests
    jitter: bool = True

    def __post_init__(self) -> None:
        self.max_attempts = max(1, int(self.max_attempts))

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.max_delay, self.base_delay * (2 ** (max(1, attempt) - 1)))
        return raw * (0.5 + random.random() / 2) if self.jitter else raw

    async def wait(self, attempt: int, deadline: Optional[float] = None, margin: float = 0.05) -> bool:
        """Sleep before the next attempt; False (without sleeping) when no attempt is left or the deadline
        (``time.monotonic()`` value) would pass first."""
        if attempt >= self.max_attempts:
            return False
        pause = self.delay(attempt)
        if deadline is not None:
            left = deadline - time.monotonic() - margin
            if left <= 0:
                return False
            pause = min(pause, left)
        await asyncio.sleep(pause)
        return True
