"""bot/credentials.platforms.yml loads through Rasa's own channel factory and routes."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from connectors.messenger import MessengerInput
from connectors.zalo import ZaloInput

CREDENTIALS = Path(__file__).resolve().parents[2] / "bot" / "credentials.platforms.yml"
ENV = {"ZALO_APP_ID": "1", "ZALO_OA_SECRET": "2", "ZALO_ACCESS_TOKEN": "3", "ZALO_REFRESH_TOKEN": "4",
       "ZALO_APP_SECRET": "5", "MESSENGER_PAGE_TOKEN": "6", "MESSENGER_APP_SECRET": "7",
       "MESSENGER_VERIFY_TOKEN": "8"}


def test_rasa_builds_both_channels_and_their_webhook_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    channels = create_http_input_channels(None, str(CREDENTIALS))
    kinds = {type(c) for c in channels}
    assert ZaloInput in kinds and MessengerInput in kinds
    zalo = next(c for c in channels if isinstance(c, ZaloInput))
    assert zalo.app_id == "1" and zalo.oa_secret == "2"
    Sanic.test_mode = True
    app = Sanic("credentials_routes_test")
    register(channels, app, route="/webhooks/")
    paths = {route.path for route in app.router.routes}
    assert "webhooks/zalo/webhook" in paths and "webhooks/messenger/webhook" in paths


def test_secrets_are_placeholders_only() -> None:
    text = CREDENTIALS.read_text(encoding="utf-8")
    for line in text.splitlines():
        if ":" in line and not line.lstrip().startswith("#") and line.startswith("  "):
            assert line.split(":", 1)[1].strip().startswith("${"), line


def test_missing_environment_variable_stops_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ZALO_OA_SECRET")
    with pytest.raises(Exception, match="ZALO_OA_SECRET"):
        create_http_input_channels(None, str(CREDENTIALS))
