"""Connector settings: credentials values first, then environment variables; secrets never have defaults."""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, Optional


class ConnectorConfigError(ValueError):
    """A required connector secret or setting is missing."""


def _usable(value: Any) -> bool:
    text = "" if value is None else str(value).strip()
    # An unexpanded "${VAR}" placeholder means the environment variable was not set.
    return bool(text) and not (text.startswith("${") and text.endswith("}"))


def setting(credentials: Optional[Dict[str, Any]], key: str, env: str, default: str = "") -> str:
    """``credentials[key]`` when set, else the ``env`` environment variable, else ``default``."""
    value = (credentials or {}).get(key)
    if _usable(value):
        return str(value).strip()
    value = os.environ.get(env)
    if _usable(value):
        return str(value).strip()
    return default


def require(channel: str, values: Dict[str, str], names: Iterable[str]) -> None:
    """Raise ConnectorConfigError naming (never showing) every missing required setting."""
    missing = [name for name in names if not values.get(name)]
    if missing:
        raise ConnectorConfigError(
            f"{channel} channel cannot start: missing {', '.join(missing)} "
            f"(set the environment variables or bot/credentials.platforms.yml)"
        )
