"""The intake path of a webhook event, shared by the Zalo and Messenger channels.

A verified event is given a place in its citizen's queue of turns across servers (a lock ticket), checked against
redeliveries, counted, and queued on the turn thread; the turn then runs with the fault handling of faults.py.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable

from cluster.lock_store import release_turn, reserve_turn, reserved_turn
from connectors.faults import accepted_turn
from connectors.turns import run_on
from infra.masking import user_ref
from infra.metrics import registry

logger = logging.getLogger(__name__)


async def accept_event(channel: str, user_id: str, event_id: str, *, dedupe: Any, queue: Any, output: Any,
                       lock_store: Any, process: Callable[[], Awaitable[None]], bot_turn: bool = True) -> bool:
    """Take one verified event of a channel: reserve its lock ticket (``bot_turn``), dedupe, count, queue the turn.

    The ticket is drawn before the dedupe marker is written, so when Redis fails here nothing is marked and the
    webhook's 5xx brings the event back. Returns False for a redelivery (its ticket is given back).
    """
    ticket = await reserve_turn(lock_store, user_id) if bot_turn else None
    if event_id and not await dedupe.first_time(event_id):
        # A postback without a mid is known by an id made of the sender's (messenger.parse_item): not in logs.
        logger.info("%s redelivery of %s ignored", channel,
                    event_id.replace(user_id, user_ref(user_id)) if user_id else event_id)
        registry().duplicates.labels(channel=channel).inc()
        await release_turn(lock_store, user_id, ticket)
        return False
    registry().messages_in.labels(channel=channel).inc()
    arrived = time.monotonic()
    webhook_loop = asyncio.get_running_loop()  # where the dedupe markers' Redis client lives

    async def job() -> None:
        async with reserved_turn(lock_store, user_id, ticket):
            await accepted_turn(process, f"{channel} user {user_ref(user_id)}", output, user_id,
                                forget=lambda: run_on(webhook_loop, dedupe.clear(event_id)))
        registry().turn_seconds.labels(channel=channel).observe(time.monotonic() - arrived)

    queue.submit(user_id, job)
    return True
