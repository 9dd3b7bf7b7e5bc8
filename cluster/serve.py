"""`rasa run` with its HTTP API protected by a token or a JWT secret taken from the environment.

    python -m cluster.serve --model models --endpoints bot/endpoints.yml --credentials bot/credentials.yml --port 5005

Every Rasa server we start goes through here (scripts/run_local.sh, scripts/run_cluster.sh, deploy/compose.yml).
The API (``/conversations/...``, ``/model``, ``/status``) is enabled and answers 401 unless the caller sends
``?token=$RASA_TOKEN`` (or a JWT signed with ``RASA_JWT_SECRET``). The secret is added to the arguments inside
this process, so it never shows in ``ps``. Without either variable the server refuses to start: an open API lets
anyone read and write every citizen's conversation. The channel webhooks (``/webhooks/...``) are not behind the
token; which of them are public is the reverse proxy's job (deploy/nginx.conf.template).
"""
from __future__ import annotations

import os
import sys
from typing import List, Mapping, Optional, Sequence


class MissingSecret(RuntimeError):
    """Neither RASA_TOKEN nor RASA_JWT_SECRET is set."""


def rasa_arguments(args: Sequence[str], env: Optional[Mapping[str, str]] = None) -> List[str]:
    """The full `rasa run` argument list: ``args`` plus --enable-api and the API secret from ``env``."""
    env = os.environ if env is None else env
    token = (env.get("RASA_TOKEN") or "").strip()
    jwt_secret = (env.get("RASA_JWT_SECRET") or "").strip()
    if not token and not jwt_secret:
        raise MissingSecret("set RASA_TOKEN (or RASA_JWT_SECRET): the Rasa HTTP API is never served without one")
    out = ["run", *[a for a in args if a not in ("--enable-api",)], "--enable-api"]
    if token:
        out += ["--auth-token", token]
    if jwt_secret:
        out += ["--jwt-secret", jwt_secret, "--jwt-method", env.get("RASA_JWT_METHOD") or "HS256"]
    return out


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Start Rasa with the secret-bearing arguments (in-process: the secret stays out of /proc/*/cmdline)."""
    try:
        args = rasa_arguments(sys.argv[1:] if argv is None else argv)
    except MissingSecret as exc:
        print(f"cluster.serve: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
