"""The one Rasa API client: the token comes from RASA_TOKEN or the file make run writes, and is always sent."""
from __future__ import annotations

import stat

from infra import rasa_api
from infra.rasa_api import RasaApi
from tests.fakes.rasa_server import FakeRasaServer


def test_the_token_file_is_created_once_private_and_read_back(tmp_path, monkeypatch):
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    monkeypatch.setenv("RASA_TOKEN_FILE", str(tmp_path / "var" / "rasa_token"))
    assert rasa_api.rasa_token() is None
    token = rasa_api.ensure_token_file()
    assert len(token) >= 40 and rasa_api.ensure_token_file() == token == rasa_api.rasa_token()
    assert stat.S_IMODE((tmp_path / "var" / "rasa_token").stat().st_mode) == 0o600
    monkeypatch.setenv("RASA_TOKEN", "from-env")
    assert rasa_api.rasa_token() == "from-env"  # the environment wins


async def test_calls_carry_the_token_and_a_wrong_one_is_refused(monkeypatch):
    monkeypatch.delenv("RASA_TOKEN_FILE", raising=False)
    rasa = FakeRasaServer(token="s3cret")
    url = await rasa.start()
    try:
        async with RasaApi(url, "s3cret") as api:
            assert await api.trigger_intent("zalo user/1", "EXTERNAL_x", {"a": 1}) == 200
        async with RasaApi(url, "wrong") as api:
            assert await api.trigger_intent("u", "EXTERNAL_x") == 401
        assert rasa.calls[0]["sender_id"] == "zalo user/1"  # quoted in the path, decoded by the server
        assert rasa.calls[0]["query"] == {"output_channel": "latest", "token": "s3cret"}
        assert rasa.calls[0]["json"] == {"name": "EXTERNAL_x", "entities": {"a": 1}}
    finally:
        await rasa.stop()
