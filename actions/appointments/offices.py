"""Which office: re-exported from the one office directory (knowledge.offices) for the appointment modules."""
from __future__ import annotations

from knowledge.geo import haversine_km
from knowledge.offices import (KB_DIR, all_offices, find_office, get_office, get_procedure, nearest_office,
                               nearest_offices, offices_for_procedure, receives, redirect_for, resolve_place)

__all__ = ["KB_DIR", "all_offices", "find_office", "get_office", "get_procedure", "haversine_km", "nearest_office",
           "nearest_offices", "offices_for_procedure", "receives", "redirect_for", "resolve_place"]
