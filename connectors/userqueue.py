"""Per-user ordered background processing: one turn at a time per user, users in parallel."""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Awaitable, Callable, Deque, Dict, Optional, Set

from infra.masking import user_ref

if TYPE_CHECKING:
    from connectors.turns import TurnThread

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class UserQueue:
    """Runs submitted jobs in background tasks; jobs of one user run strictly in submission order.

    With a ``runner`` the jobs run on its turn loop; ``submit`` and ``drain`` then work from any loop.
    """

    def __init__(self, runner: Optional["TurnThread"] = None) -> None:
        self._runner = runner
        self._pending: Dict[str, Deque[Job]] = {}
        self._workers: Dict[str, "asyncio.Task[None]"] = {}
        self._tasks: Set["asyncio.Task[None]"] = set()  # strong refs: the loop keeps only weak ones
        self.closed = False  # set at shutdown: the webhooks then refuse new deliveries

    def submit(self, user_id: str, job: Job) -> None:
        """Queue ``job`` for ``user_id`` and return at once."""
        if self._runner is not None:
            self._runner.call_soon(self._submit_here, user_id, job)
        else:
            self._submit_here(user_id, job)

    def _submit_here(self, user_id: str, job: Job) -> None:
        self._pending.setdefault(user_id, deque()).append(job)
        if user_id not in self._workers:
            task = asyncio.get_running_loop().create_task(self._work(user_id))
            self._workers[user_id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self, user_id: str) -> None:
        try:
            while True:
                queue = self._pending.get(user_id)
                if not queue:
                    break
                job = queue.popleft()
                try:
                    await job()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # One failed turn must not stop the user's later messages.
                    logger.exception("connector job failed for user %s", user_ref(user_id))
        finally:
            self._workers.pop(user_id, None)
            if not self._pending.get(user_id):
                self._pending.pop(user_id, None)

    def busy(self) -> bool:
        """True while any job is queued or running."""
        return bool(self._workers)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued job has finished (tests, graceful shutdown)."""
        if self._runner is not None:
            await self._runner.run(self._drain_here(timeout))
        else:
            await self._drain_here(timeout)

    async def _drain_here(self, timeout: float) -> None:
        async def _wait() -> None:
            while self._workers:
                await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

        await asyncio.wait_for(_wait(), timeout)
