"""The nginx configuration and the Rasa launcher (no servers needed): issue 13's perimeter, as files."""
from __future__ import annotations

import re
import subprocess

import pytest

from cluster.proxy import PUBLIC_PATHS, render
from cluster.serve import MissingSecret, rasa_arguments
from tests.conftest import REPO


def test_compose_uses_exactly_the_generated_configuration() -> None:
    expected = render(["rasa1:5005", "rasa2:5005"], "8080")
    assert (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8") == expected, \
        "regenerate: python -m cluster.proxy --listen 8080 --backend rasa1:5005 --backend rasa2:5005 > deploy/nginx.conf"


def test_only_the_webhooks_and_health_are_forwarded(tmp_path) -> None:
    text = render(["127.0.0.1:5101"], "127.0.0.1:5005", tmp_path)
    forwarded = re.findall(r"location = (\S+) \{\s+proxy_pass http://rasa(\S+);", text)
    assert forwarded == [(p, p) for p, _ in PUBLIC_PATHS]  # exact match, forwarded as that exact path
    assert {p for p, _ in PUBLIC_PATHS} == {"/webhooks/zalo/webhook", "/webhooks/messenger/webhook",
                                            "/webhooks/ops/health", "/webhooks/ops/ready"}
    assert text.count("proxy_pass") == len(PUBLIC_PATHS)
    assert re.search(r"location / \{\s+default_type application/json;\s+return 404", text)
    assert "client_max_body_size 5m;" in text and str(tmp_path.resolve()) in text


def test_nginx_accepts_the_configuration(tmp_path) -> None:
    nginx = subprocess.run(["bash", str(REPO / "scripts" / "find_nginx.sh")], capture_output=True,
                           text=True).stdout.strip()
    if not nginx:
        pytest.fail("nginx is needed (scripts/find_nginx.sh installs it; .ci/run does)")
    (tmp_path / "nginx.conf").write_text(render(["127.0.0.1:5101", "127.0.0.1:5102"], "127.0.0.1:5999", tmp_path))
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_rasa_never_starts_with_an_open_api() -> None:
    with pytest.raises(MissingSecret):
        rasa_arguments(["--model", "models"], {})
    args = rasa_arguments(["--model", "models", "--enable-api", "--port", "5005"], {"RASA_TOKEN": "t0k"})
    assert args[0] == "run" and args.count("--enable-api") == 1 and args[-2:] == ["--auth-token", "t0k"]
    jwt = rasa_arguments([], {"RASA_JWT_SECRET": "s"})
    assert "--jwt-secret" in jwt and "--auth-token" not in jwt


def test_the_action_server_refuses_an_open_address_without_its_secret() -> None:
    from tests.conftest import PYTHON, rasa_env

    env = rasa_env()
    env.pop("ACTION_SERVER_TOKEN", None)
    result = subprocess.run([PYTHON, "-m", "actions.server", "--host", "0.0.0.0", "--port", "1", "--no-warm-up"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "ACTION_SERVER_TOKEN" in result.stderr
