"""The REST client against the fake one-stop API over real HTTP: success, 404, retries, timeouts, auth."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import AsyncIterator

import pytest

from onestop.dossiers.backend import BackendUnavailable, HttpDossierBackend
from onestop.dossiers.model import DossierStatus
from onestop.dossiers.seed import generate_demo_dossiers
from tests.fakes.one_stop_api import FakeOneStopApi

DEMO = generate_demo_dossiers()[:12]
CODE = DEMO[1].code


@pytest.fixture
async def api(fake_api: FakeOneStopApi) -> FakeOneStopApi:
    for d in DEMO:
        fake_api.add(d)
    return fake_api


@pytest.fixture
async def client(api: FakeOneStopApi) -> AsyncIterator[HttpDossierBackend]:
    # Small budgets keep the suite fast; the ratios are those of the defaults (4 s total, 2 s per try).
    backend = HttpDossierBackend(
        api.base_url, "test-key", timeout=1.2, attempt_timeout=0.5, retries=2, backoff=0.05
    )
    yield backend
    await backend.close()


async def test_get_success_sends_bearer_key(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    d = await client.get(CODE)
    assert d is not None
    assert d.to_dict() == DEMO[1].to_dict()
    assert api.requests[-1]["authorization"] == "Bearer test-key"
    assert api.requests[-1]["path"] == f"/dossiers/{CODE}"
    # citizen spelling is normalised before the request
    assert (await client.get(CODE.lower())) is not None
    assert api.requests[-1]["path"] == f"/dossiers/{CODE}"


async def test_one_long_lived_session(client: HttpDossierBackend) -> None:
    await client.get(CODE)
    session = client._session
    await client.get(CODE)
    await client.changed_since(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert client._session is session and session is not None and not session.closed
    await client.close()
    assert session.closed
    assert await client.get(CODE) is not None  # reconnects lazily after close


async def test_404_is_none(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    assert await client.get("000.00.11.H26-261119-9999") is None
    assert len(api.requests) == 1


async def test_500_then_success_is_retried(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    api.fail_next = 1
    d = await client.get(CODE)
    assert d is not None and d.code == CODE
    assert len(api.requests) == 2


async def test_500_forever_raises_after_bounded_retries(
    api: FakeOneStopApi, client: HttpDossierBackend
) -> None:
    api.mode = "error500"
    with pytest.raises(BackendUnavailable) as info:
        await client.get(CODE)
    assert info.value.reason == "server_error"
    assert len(api.requests) == 3  # first try + 2 retries


async def test_hang_raises_within_the_timeout(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    api.mode = "hang"
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        await client.get(CODE)
    elapsed = time.monotonic() - started
    assert info.value.reason == "timeout"
    assert elapsed < client.timeout + 0.3, elapsed
    assert 2 <= len(api.requests) <= 3  # timeouts are retried while the budget lasts


async def test_default_budget_is_about_four_seconds() -> None:
    backend = HttpDossierBackend("http://127.0.0.1:9")
    assert backend.timeout == pytest.approx(4.0) and backend.retries == 2


async def test_slow_but_within_budget_succeeds(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    api.mode, api.delay = "slow", 0.2
    assert await client.get(CODE) is not None
    assert len(api.requests) == 1


@pytest.mark.parametrize("mode", ["unauthorized", "wrong-key"])
async def test_401_is_auth_failure_without_retry(api: FakeOneStopApi, mode: str) -> None:
    key = "test-key"
    if mode == "unauthorized":
        api.mode = "unauthorized"
    else:
        key = "wrong"
    backend = HttpDossierBackend(api.base_url, key, timeout=1.2, attempt_timeout=0.5, backoff=0.05)
    try:
        with pytest.raises(BackendUnavailable) as info:
            await backend.get(CODE)
        assert info.value.reason == "auth"
        assert len(api.requests) == 1
    finally:
        await backend.close()


async def test_connection_refused_is_unavailable() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = HttpDossierBackend(f"http://127.0.0.1:{port}", timeout=0.8, attempt_timeout=0.3, backoff=0.05)
    try:
        with pytest.raises(BackendUnavailable) as info:
            await backend.get(CODE)
        assert info.value.reason == "connection"
    finally:
        await backend.close()


async def test_changed_since(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    since = dt.datetime.now(dt.timezone.utc)
    assert await client.changed_since(since) == []
    api.set_status(DEMO[2].code, "ready", since + dt.timedelta(seconds=5))
    api.set_status(DEMO[0].code, "processing", since + dt.timedelta(seconds=3))
    changed = await client.changed_since(since)
    assert [d.code for d in changed] == [DEMO[0].code, DEMO[2].code]
    assert changed[1].status is DossierStatus.READY
    assert api.requests[-1]["query"]["changed_since"] == since.isoformat()


async def test_malformed_answers(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    api.add(DEMO[4].to_dict() | {"code": "000.00.11.H26-261120-0999", "status": "lost"})
    with pytest.raises(BackendUnavailable) as info:
        await client.get("000.00.11.H26-261120-0999")
    assert info.value.reason == "bad_response"
    # one bad item does not hide the others from the notifier
    api.set_status(DEMO[5].code, "ready")
    api.dossiers["000.00.11.H26-261120-0999"]["updated_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
    changed = await client.changed_since(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    assert [d.code for d in changed] == [DEMO[5].code]


async def test_concurrent_lookups_share_the_session(api: FakeOneStopApi, client: HttpDossierBackend) -> None:
    results = await asyncio.gather(*(client.get(d.code) for d in DEMO))
    assert [r.code for r in results if r] == [d.code for d in DEMO]
