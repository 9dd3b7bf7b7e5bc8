"""The one client of the Rasa server's HTTP API (`/conversations/...`), used by every internal caller.

The staff console (transcript, officer replies, give back to the bot), the dossier notifier, the appointment
reminder job and the staff commands all reach Rasa through this module, so that the API token is sent the same way
everywhere. Rasa runs with ``--auth-token`` (scripts/run_local.sh, scripts/run_cluster.sh, deploy/compose.yml), and
its API answers 401 without ``?token=``. The token comes from ``RASA_TOKEN``, else from the file ``make run`` writes
(``RASA_TOKEN_FILE``, default ``var/rasa_token``).
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

import aiohttp

REPO = Path(__file__).resolve().parent.parent
DEFAULT_URL = "http://localhost:5005"
DEFAULT_TOKEN_FILE = "var/rasa_token"


def token_file(env: Optional[Mapping[str, str]] = None) -> Path:
    """Where ``make run`` keeps its generated API token (relative paths are under the repository)."""
    env = os.environ if env is None else env
    path = Path(env.get("RASA_TOKEN_FILE") or DEFAULT_TOKEN_FILE)
    return path if path.is_absolute() else REPO / path


def rasa_token(env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The Rasa API token: RASA_TOKEN, else the token file's content, else None."""
    env = os.environ if env is None else env
    given = (env.get("RASA_TOKEN") or "").strip()
    if given:
        return given
    try:
        return token_file(env).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def ensure_token_file(env: Optional[Mapping[str, str]] = None) -> str:
    """Return the token of the token file, creating it (random, readable by the owner only) when missing."""
    path = token_file(env)
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except OSError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def rasa_url(env: Optional[Mapping[str, str]] = None) -> str:
    """The Rasa server the staff tools talk to (RASA_URL)."""
    env = os.environ if env is None else env
    return (env.get("RASA_URL") or DEFAULT_URL).rstrip("/")


class RasaApi:
    """Calls to one Rasa server's HTTP API with its token; network errors propagate (callers decide on retries)."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *, timeout: float = 10.0,
                 session: Optional[aiohttp.ClientSession] = None) -> None:
        self.url = (url or rasa_url()).rstrip("/")
        self.token = token if token is not None else rasa_token()
        self.timeout = timeout
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> "RasaApi":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session this client opened (a session given by the caller stays open)."""
        if self._own_session and self._session is not None:
            if not self._session.closed:
                await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._own_session = True
        return self._session

    def _path(self, sender_id: str, tail: str) -> str:
        # Quoted: namespaced ids ("zalo:123") and odd platform ids must not change the path.
        return f"{self.url}/conversations/{quote(str(sender_id), safe='')}/{tail}"

    def _params(self, **extra: str) -> Dict[str, str]:
        params = dict(extra)
        if self.token:
            params["token"] = self.token
        return params

    async def _request(self, method: str, url: str, params: Dict[str, str],
                       body: Any = None) -> Tuple[int, Any]:
        async with self._http().request(method, url, params=params, json=body) as resp:
            try:
                data = await resp.json(content_type=None)
            except ValueError:
                data = None
            return resp.status, data

    async def trigger_intent(self, sender_id: str, intent: str, entities: Optional[Dict[str, Any]] = None,
                             output_channel: str = "latest") -> int:
        """Run an external intent in the conversation; the HTTP status of Rasa's answer."""
        body = {"name": intent, "entities": entities or {}}
        status, _ = await self._request("POST", self._path(sender_id, "trigger_intent"),
                                        self._params(output_channel=output_channel), body)
        return status

    async def execute(self, sender_id: str, action: str, output_channel: str = "latest") -> int:
        """Run an action in the conversation (works while it is paused); the HTTP status."""
        status, _ = await self._request("POST", self._path(sender_id, "execute"),
                                        self._params(output_channel=output_channel), {"name": action})
        return status

    async def tracker(self, sender_id: str) -> Tuple[int, Optional[Dict[str, Any]]]:
        """(status, tracker JSON) of the conversation."""
        status, data = await self._request("GET", self._path(sender_id, "tracker"), self._params())
        return status, data if status == 200 and isinstance(data, dict) else None

    async def replace_events(self, sender_id: str, events: List[Dict[str, Any]]) -> int:
        """Replace the conversation's events (an empty list forgets it in the in-memory store); the HTTP status."""
        status, _ = await self._request("PUT", self._path(sender_id, "tracker/events"), self._params(), events)
        return status

    async def append_events(self, sender_id: str, events: List[Dict[str, Any]]) -> int:
        """Append events to the conversation's tracker; the HTTP status."""
        status, _ = await self._request("POST", self._path(sender_id, "tracker/events"), self._params(), events)
        return status


def main() -> None:
    """`python -m infra.rasa_api ensure-token`: print the token, creating var/rasa_token when needed."""
    import sys

    if sys.argv[1:] != ["ensure-token"]:
        print("usage: python -m infra.rasa_api ensure-token", file=sys.stderr)
        raise SystemExit(2)
    print(rasa_token() or ensure_token_file())


if __name__ == "__main__":
    main()
