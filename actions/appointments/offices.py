"""Which office: by name (old names, with or without diacritics), by position, or by procedure."""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from knowledge.geo import haversine_km
from knowledge.schema import ALL_COMMUNE, Office, Procedure, load_offices, load_procedures

KB_DIR = Path(__file__).resolve().parents[2] / "knowledge"


@functools.lru_cache(maxsize=2)
def _knowledge(kb_dir: str) -> Tuple[Dict[str, Procedure], Tuple[Office, ...]]:
    errors: List[str] = []
    procedures = load_procedures(Path(kb_dir) / "procedures", errors, base=Path(kb_dir))
    offices = load_offices(Path(kb_dir) / "offices.yml", procedures, errors, base=Path(kb_dir))
    return procedures, tuple(offices)


def all_offices() -> List[Office]:
    """Every office of knowledge/offices.yml (loaded once)."""
    return list(_knowledge(str(KB_DIR))[1])


def get_office(office_id: str) -> Optional[Office]:
    """The office with this id, or None."""
    return next((o for o in all_offices() if o.id == office_id), None)


def find_office(text: str) -> Optional[Office]:
    """The office a citizen named (current name, alias or old ward/district name; diacritics optional)."""
    from actions.offices import match_office  # shares the matching rules of the office-info answer

    offices = all_offices()
    found = match_office(text or "", [dataclasses.asdict(o) for o in offices])
    return get_office(found["id"]) if found else None


def nearest_office(lat: float, lon: float, procedure_key: Optional[str] = None) -> Optional[Office]:
    """The closest office with coordinates (that receives ``procedure_key`` when given)."""
    candidates = offices_for_procedure(procedure_key) if procedure_key else all_offices()
    located = [o for o in candidates if o.coordinates is not None]
    if not located:
        return None
    return min(located, key=lambda o: haversine_km(lat, lon, o.coordinates[0], o.coordinates[1]))  # type: ignore[index]


def receives(office: Office, procedure_key: str) -> bool:
    """True when ``office`` receives dossiers of ``procedure_key``."""
    if procedure_key in office.receives:
        return True
    if ALL_COMMUNE in office.receives:
        proc = _knowledge(str(KB_DIR))[0].get(procedure_key)
        # all_commune covers the procedures whose submit.offices names the commune People's Committee.
        return proc is not None and "commune" in (proc.submit.extra.get("offices") or [])
    return False


def offices_for_procedure(procedure_key: str) -> List[Office]:
    """Offices that receive ``procedure_key`` (empty when none does)."""
    return [o for o in all_offices() if receives(o, procedure_key)]


def redirect_for(office: Office, procedure_key: str) -> Optional[List[Office]]:
    """None when ``office`` receives the procedure; else the offices that do (nearest to it first)."""
    if receives(office, procedure_key):
        return None
    others = offices_for_procedure(procedure_key)
    if office.coordinates is not None:
        lat, lon = office.coordinates
        others.sort(key=lambda o: haversine_km(lat, lon, *o.coordinates) if o.coordinates else float("inf"))
    return others


def get_procedure(key: str) -> Optional[Procedure]:
    """The procedure with this key from the knowledge base, or None."""
    return _knowledge(str(KB_DIR))[0].get(key) if key else None
