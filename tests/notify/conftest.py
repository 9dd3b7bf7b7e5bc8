"""Fixtures for the notification tests: a fresh SQLite database, the fake ZNS and Rasa servers, a Deliverer."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator, Dict, Iterator

import pytest

from infra import db
from infra.retry import RetryPolicy
from onestop.notify.deliver import Deliverer
from onestop.notify.templates import load_registry
from onestop.notify.zns import ZnsClient
from tests.fakes.fake_zns import FakeZns

TEMPLATE_IDS: Dict[str, str] = {"ZNS_TEMPLATE_APPOINTMENT_REMINDER": "300001",
                                "ZNS_TEMPLATE_DOSSIER_STATUS": "300002"}
# The parameters the shipped deploy/zns_templates.yml sends (as an operator would register them with Zalo).
FAKE_TEMPLATES = {
    "300001": ["customer_name", "booking_code", "appointment_date", "appointment_time", "office_name"],
    "300002": ["dossier_code", "procedure_name", "status_label", "updated_date"],
}
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, timeout=2.0)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file (bookings, consents, notifications)."""
    yield f"sqlite:///{tmp_path / 'app.sqlite'}"
    db.dispose_all()


@pytest.fixture
async def fake_zns() -> AsyncIterator[FakeZns]:
    """The fake ZNS API with the two templates of the shipped registry approved."""
    fake = FakeZns(access_token="zns-at", templates=FAKE_TEMPLATES)
    await fake.start()
    yield fake
    await fake.stop()



def zns_client(base_url: str, token: str = "zns-at") -> ZnsClient:
    """A client of the fake with a fixed token and fast retries."""
    async def provide() -> str:
        return token
    return ZnsClient(provide, base_url=base_url, policy=FAST)


@pytest.fixture
def deliverer(sqlite_url: str, fake_zns: FakeZns) -> Deliverer:
    """A Deliverer sending ZNS to the fake, with the shipped template registry and test template ids."""
    return Deliverer(zns=zns_client(fake_zns.base_url), templates=load_registry(env=TEMPLATE_IDS), url=sqlite_url)
