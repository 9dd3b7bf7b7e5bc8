"""Shared locations: validated coordinates, handed to the bot as a `share_location` message.

The bot (actions/appointment_actions.py) answers with the nearest one-stop office, or takes it as the office of a
booking in progress; the connectors only read the platform's coordinates.
"""
from __future__ import annotations

import json
import math
from typing import Any, Optional, Tuple

from knowledge.geo import haversine_km

__all__ = ["haversine_km", "parse_coordinates", "location_payload"]


def parse_coordinates(lat: Any, lon: Any) -> Optional[Tuple[float, float]]:
    """(lat, lon) as floats when both are valid coordinates, else None."""
    try:
        flat, flon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (-90 <= flat <= 90 and -180 <= flon <= 180) or math.isnan(flat) or math.isnan(flon):
        return None
    return flat, flon


def location_payload(lat: float, lon: float) -> str:
    """The message the bot receives for a shared location (Rasa's /intent{entities} form)."""
    return "/share_location" + json.dumps({"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"})
