"""Dossier status changes outside the Zalo window go by ZNS to a consenting citizen; the rest as before."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from infra.db import run_sync
from onestop.dossiers.backend import DemoDossierBackend
from onestop.dossiers.notifier import Notifier
from onestop.dossiers.seed import demo_codes
from onestop.dossiers.subscriptions import RESULT_GAVE_UP, RESULT_OUTSIDE_WINDOW, RESULT_SENT, SubscriptionStore
from onestop.notify import consent, records
from onestop.notify.deliver import Deliverer
from onestop.notify.templates import load_registry
from tests.fakes.fake_zns import FakeZns
from tests.fakes.rasa_server import FakeRasaServer
from tests.notify.conftest import TEMPLATE_IDS, zns_client

CODE = demo_codes(1)["processing"][0]
DAY = dt.timedelta(days=1)


async def test_status_change_by_chat_by_zns_or_kept_pending(tmp_path: Path, sqlite_url: str,
                                                            fake_rasa: FakeRasaServer, fake_zns: FakeZns) -> None:
    backend, subs = DemoDossierBackend(tmp_path / "d.sqlite"), SubscriptionStore(tmp_path / "s.sqlite")
    deliverer = Deliverer(zns=zns_client(fake_zns.base_url), templates=load_registry(env=TEMPLATE_IDS),
                          url=sqlite_url)
    notifier = Notifier(backend, subs, fake_rasa.base_url, timeout=2.0, deliverer=deliverer)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        d = await backend.get(CODE)
        assert d is not None
        await subs.subscribe("za-recent", "zalo", CODE, d.status.value, now=now - DAY)
        await subs.subscribe("za-old", "zalo", CODE, d.status.value, now=now - 9 * DAY)
        await subs.subscribe("za-old-silent", "zalo", CODE, d.status.value, now=now - 9 * DAY)
        await run_sync(lambda: consent.record_consent("za-old", "0944444444", consent.DOSSIER_STATUS,
                                                      url=sqlite_url))
        await notifier.run_once()
        changed = await backend.set_status(CODE, "supplement_required")
        assert changed is not None
        outcomes = {o.sender_id: (o.result, o.route) for o in await notifier.run_once()}
        assert outcomes == {"za-recent": (RESULT_SENT, "chat"), "za-old": (RESULT_SENT, "zns"),
                            "za-old-silent": (RESULT_OUTSIDE_WINDOW, "none")}
        assert [c["sender_id"] for c in fake_rasa.calls] == ["za-recent"]
        [sent] = fake_zns.delivered
        assert sent["body"]["phone"] == "84944444444" and sent["body"]["template_id"] == "300002"
        data = sent["body"]["template_data"]
        assert data["dossier_code"] == CODE and data["status_label"] == "Chờ bổ sung hồ sơ"
        assert set(data) == {"dossier_code", "procedure_name", "status_label", "updated_date"}
        sub = await subs.get("za-old", CODE)
        assert sub is not None and sub.last_status == "supplement_required" and sub.pending_status is None
        silent = await subs.get("za-old-silent", CODE)
        assert silent is not None and silent.pending_status == "supplement_required"

        # polls again: nothing new is sent; the silent citizen agrees later -> the pending change goes by ZNS
        await notifier.run_once()
        assert len(fake_zns.sends) == 1 and len(fake_rasa.calls) == 1
        await run_sync(lambda: consent.record_consent("za-old-silent", "0955555555", consent.DOSSIER_STATUS,
                                                      url=sqlite_url))
        outcomes = {o.sender_id: (o.result, o.route) for o in await notifier.run_once()}
        assert outcomes == {"za-old-silent": (RESULT_SENT, "zns")}
        assert [s["body"]["phone"] for s in fake_zns.delivered] == ["84944444444", "84955555555"]
        assert records.counts(sqlite_url) == {("chat", "sent"): 1, ("zns", "sent"): 2}

        # ZNS refuses the next change for good: recorded, not retried, the subscription moves on
        await backend.set_status(CODE, "fee_due")
        fake_zns.fail_next("out_of_quota", "out_of_quota")
        outcomes = {o.sender_id: o.result for o in await notifier.run_once()}
        assert outcomes["za-old"] == RESULT_GAVE_UP and outcomes["za-old-silent"] == RESULT_GAVE_UP
        await notifier.run_once()
        assert len(fake_zns.sends) == 4
        assert records.counts(sqlite_url)[("zns", "failed")] == 2
    finally:
        await notifier.close()
