"""Tell subscribed citizens when their dossier's status changes.

    python -m onestop.dossiers.notifier --once          # one poll (cron)
    python -m onestop.dossiers.notifier --interval 60   # poll every 60 s until stopped

Each poll asks the backend for dossiers changed since the last poll, and for each subscription whose dossier
status differs from what the citizen last saw: inside the platform's messaging window it asks the Rasa server
(`RASA_URL`, token `RASA_TOKEN`) to run the intent EXTERNAL_dossier_status_changed in that conversation, which
answers through the channel the citizen used; outside a Zalo window it sends a ZNS template message when the
citizen agreed to receive them at a phone (onestop.notify, docs/notifications.md); otherwise it records
`not_sent: outside_window` and keeps the change pending until the citizen writes again (or agrees to ZNS).
Every decision is also recorded in the notifications table. Run ONE notifier per deployment: it is the only
writer of delivery state, and two would send the same message twice.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from onestop.dossiers.backend import BackendUnavailable, DossierBackend, make_backend
from onestop.dossiers.model import Dossier
from onestop.dossiers.subscriptions import (
    RESULT_GAVE_UP,
    RESULT_OUTSIDE_WINDOW,
    RESULT_SENT,
    Subscription,
    SubscriptionStore,
)
from infra.clock import to_local
from infra.masking import user_ref
from infra.rasa_api import RasaApi, rasa_token
from onestop.notify.consent import DOSSIER_STATUS
from onestop.notify.deliver import DUPLICATE, ChatResult, Deliverer, Notification
from onestop.notify.records import FAILED, SENT, SKIPPED
from onestop.notify.windows import (  # noqa: F401 - re-exported: the window policy used to live here
    _CHANNEL_KIND,
    MESSENGER_WINDOW,
    WINDOW_MARGIN,
    ZALO_FREE_WINDOW,
    ZALO_WINDOW,
    messaging_window,
    within_window,
)

log = logging.getLogger(__name__)

EXTERNAL_INTENT = "EXTERNAL_dossier_status_changed"
# Changes can be committed out of timestamp order on the remote system; re-reading a short overlap is cheap
# because an unchanged status is never sent twice.
POLL_OVERLAP = dt.timedelta(minutes=2)
FIRST_RUN_LOOKBACK = ZALO_WINDOW
MAX_SEND_ERRORS = 5


@dataclass
class NotifyOutcome:
    """What happened to one subscription in one poll."""

    sender_id: str
    code: str
    status: str
    result: str
    route: str = "chat"


class Notifier:
    """Polls dossier changes and triggers the Rasa external intent for subscribed conversations."""

    def __init__(
        self,
        backend: DossierBackend,
        store: SubscriptionStore,
        rasa_url: str,
        *,
        rasa_token: Optional[str] = None,
        timeout: float = 10.0,
        zalo_free_only: bool = False,
        max_pending_refetch: int = 50,
        deliverer: Optional[Deliverer] = None,
    ) -> None:
        self.backend = backend
        self.store = store
        self.rasa_url = rasa_url.rstrip("/")
        self.rasa_token = rasa_token
        self.timeout = timeout  # Rasa runs the whole action (and our backend lookup) before it answers
        self.zalo_free_only = zalo_free_only
        self.max_pending_refetch = max_pending_refetch
        # Without a deliverer: chat only, decisions recorded next to the subscriptions.
        self.deliverer = deliverer or Deliverer(url=store.url, zalo_free_only=zalo_free_only)
        self._session: Optional[aiohttp.ClientSession] = None

    @classmethod
    def from_env(cls) -> "Notifier":
        """Notifier configured from DOSSIER_* , RASA_URL, RASA_TOKEN, NOTIFY_ZALO_FREE_ONLY and ZNS_*."""
        deliverer = Deliverer.from_env()
        return cls(
            make_backend(),
            SubscriptionStore(),
            os.environ.get("RASA_URL") or "http://localhost:5005",
            rasa_token=rasa_token(),
            zalo_free_only=deliverer.zalo_free_only,
            deliverer=deliverer,
        )

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def trigger(self, sender_id: str, code: str, status: str) -> Optional[str]:
        """Ask Rasa to run the status-changed intent for ``sender_id``; None on success, else the error."""
        api = RasaApi(self.rasa_url, self.rasa_token or "", session=await self._http())
        try:
            answer = await api.trigger_intent(sender_id, EXTERNAL_INTENT,
                                              {"dossier_code": code, "dossier_status": status})
            return None if 200 <= answer < 300 else f"error: HTTP {answer}"
        except asyncio.TimeoutError:
            return "error: timeout"
        except aiohttp.ClientError as exc:
            return f"error: {type(exc).__name__}"

    def _chat(self, sub: Subscription, status: str) -> Any:
        async def send(tag: Optional[str]) -> ChatResult:
            error = await self.trigger(sub.sender_id, sub.code, status)
            # Retried on later polls until MAX_SEND_ERRORS, as before ZNS existed.
            return ChatResult(error, retryable=sub.errors + 1 < MAX_SEND_ERRORS)
        return send

    @staticmethod
    def notification(sub: Subscription, dossier: Dossier) -> Notification:
        """The status change of ``dossier`` for ``sub``; the key changes with each change the citizen was told."""
        epoch = int((sub.notified_at or sub.created_at).timestamp())
        return Notification(
            dedupe_key=f"{DOSSIER_STATUS}:{user_ref(sub.sender_id)}:{sub.code}:{sub.last_status}>"
                       f"{dossier.status.value}:{epoch}",
            purpose=DOSSIER_STATUS, sender_id=sub.sender_id, channel=sub.channel,
            last_user_message_at=sub.last_user_message_at,
            fields={"dossier_code": dossier.code, "procedure_name": dossier.procedure_name,
                    "status_label": dossier.status_label_vi, "office_name": dossier.office_name,
                    "updated_date": f"{to_local(dossier.updated_at):%d/%m/%Y}",
                    "due_date": f"{dossier.due_at:%d/%m/%Y}" if dossier.due_at else ""})

    async def _handle(self, sub: Subscription, dossier: Dossier, now: dt.datetime) -> Optional[NotifyOutcome]:
        status = dossier.status.value
        if status == sub.last_status:
            if sub.pending_status is not None:  # it changed and changed back before we could tell them
                await self.store.clear_pending(sub.sender_id, sub.code, now=now)
            return None
        delivery = await self.deliverer.deliver(self.notification(sub, dossier), self._chat(sub, status), now)
        if delivery.status == SKIPPED:
            if sub.pending_status != status or sub.last_result != RESULT_OUTSIDE_WINDOW:
                await self.store.mark_not_sent(
                    sub.sender_id, sub.code, status, RESULT_OUTSIDE_WINDOW, now=now
                )
                log.info(
                    "dossier %s -> %s: %s outside the %s window (%s), kept pending",
                    sub.code,
                    status,
                    user_ref(sub.sender_id),
                    sub.channel,
                    delivery.detail,
                )
            return NotifyOutcome(sub.sender_id, sub.code, status, RESULT_OUTSIDE_WINDOW, delivery.route)
        if delivery.sent or (delivery.status == DUPLICATE and delivery.previous == SENT):
            await self.store.mark_sent(sub.sender_id, sub.code, status, now=now)
            log.info("dossier %s -> %s: told %s via %s (%s)", sub.code, status, user_ref(sub.sender_id), sub.channel,
                     delivery.route)
            return NotifyOutcome(sub.sender_id, sub.code, status, RESULT_SENT, delivery.route)
        if delivery.status == DUPLICATE or (delivery.status == FAILED and not delivery.retryable):
            # ZNS refused it, Rasa refused it MAX_SEND_ERRORS times (never loop forever on one conversation), or an
            # earlier run was interrupted while sending (never risk telling it twice). A later change starts afresh.
            await self.store.mark_gave_up(sub.sender_id, sub.code, status, now=now)
            log.warning("dossier %s -> %s: not told to %s via %s (%s)", sub.code, status, user_ref(sub.sender_id),
                        delivery.route, delivery.detail or delivery.previous)
            return NotifyOutcome(sub.sender_id, sub.code, status, RESULT_GAVE_UP, delivery.route)
        error = delivery.detail or "error"
        await self.store.mark_not_sent(sub.sender_id, sub.code, status, error, now=now, error=True)
        log.warning("dossier %s -> %s: could not tell %s: %s", sub.code, status, user_ref(sub.sender_id), error)
        return NotifyOutcome(sub.sender_id, sub.code, status, error)

    async def run_once(self, now: Optional[dt.datetime] = None) -> List[NotifyOutcome]:
        """One poll; BackendUnavailable propagates (the cursor then stays where it was)."""
        now = now or dt.datetime.now(dt.timezone.utc)
        cursor = await self.store.get_cursor() or (now - FIRST_RUN_LOOKBACK)
        changed = await self.backend.changed_since(cursor - POLL_OVERLAP)
        latest: Dict[str, Dossier] = {}
        for d in changed:  # oldest first, so the last one per code wins
            latest[d.code] = d
        subs = await self.store.for_codes(latest)
        seen = {(s.sender_id, s.code) for s in subs}
        pairs = [(s, latest[s.code]) for s in subs]

        # Changes not delivered earlier (window closed, Rasa down) have left the change feed: re-read them.
        pending = [
            s for s in await self.store.pending(self.max_pending_refetch) if (s.sender_id, s.code) not in seen
        ]
        refetched: Dict[str, Optional[Dossier]] = {}
        for sub in pending:
            if sub.code not in refetched:
                try:
                    refetched[sub.code] = await self.backend.get(sub.code)
                except BackendUnavailable as exc:
                    log.warning("cannot re-read pending dossier %s: %s", sub.code, exc)
                    refetched[sub.code] = None
            if refetched[sub.code] is not None:
                pairs.append((sub, refetched[sub.code]))  # type: ignore[arg-type]

        outcomes: List[NotifyOutcome] = []
        for sub, dossier in pairs:
            outcome = await self._handle(sub, dossier, now)
            if outcome is not None:
                outcomes.append(outcome)

        if changed:
            newest = max(d.updated_at for d in changed)
            # Follow the source's clock, not ours, so a skewed clock never makes us skip changes.
            await self.store.set_cursor(max(cursor, newest))
        elif await self.store.get_cursor() is None:
            await self.store.set_cursor(cursor)
        await self.store.purge(now=now)
        return outcomes

    async def run_forever(self, interval: float, stop: Optional[asyncio.Event] = None) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set; a failing backend is logged, not fatal."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                outcomes = await self.run_once()
                if outcomes:
                    log.info("poll: %d notifications handled", len(outcomes))
            except BackendUnavailable as exc:
                log.warning("dossier backend unavailable (%s); retrying in %.0f s", exc, interval)
            except Exception:  # noqa: BLE001 - a long-running job must survive one bad poll
                log.exception("poll failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        """Close the HTTP session, the backend and the store."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        await self.deliverer.close()
        await self.backend.close()
        await self.store.close()


async def _main(args: argparse.Namespace) -> int:
    notifier = Notifier.from_env()
    if args.rasa_url:
        notifier.rasa_url = args.rasa_url.rstrip("/")
    try:
        if args.once:
            try:
                outcomes = await notifier.run_once()
            except BackendUnavailable as exc:
                log.error("dossier backend unavailable: %s", exc)
                return 1
            for o in outcomes:
                print(f"{o.code}\t{o.status}\t{user_ref(o.sender_id)}\t{o.result}")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not on the main thread / platform
                pass
        await notifier.run_forever(args.interval, stop)
        return 0
    finally:
        await notifier.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m onestop.dossiers.notifier", description=__doc__.split("\n")[0]
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="poll once and exit")
    mode.add_argument("--interval", type=float, help="poll every N seconds until stopped")
    parser.add_argument("--rasa-url", help="Rasa server (default: $RASA_URL or http://localhost:5005)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.interval is not None and args.interval <= 0:
        parser.error("--interval must be positive")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
