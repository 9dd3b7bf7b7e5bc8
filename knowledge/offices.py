"""The one office directory: load knowledge/offices.yml once per change, fill defaults, find offices.

Every reader of offices (the office-info answer, the booking forms, the appointment store, the console's try page)
goes through here. The file is re-read when it changes on disk (a console publish rewrites it atomically), so no
restart is needed. Facts an entry does not give come from ``knowledge/deployment.yml`` and are listed in
``Office.unconfirmed`` so that texts can say so.
"""
from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from knowledge import admin_units
from knowledge.directory import defaults, province_key
from knowledge.geo import haversine_km
from knowledge.schema import ALL_COMMUNE, Office, Procedure, load_offices, load_procedures

KB_DIR = Path(__file__).resolve().parent
# Words that name the kind of office, not which one: they must not decide a name match on their own.
GENERIC = {"uy", "ban", "nhan", "dan", "phuong", "xa", "quan", "huyen", "thi", "tran", "cong", "an",
           "bo", "phan", "mot", "cua", "trung", "tam", "ha", "noi", "thanh", "pho", "tp", "ubnd", "o", "dau"}

_lock = threading.Lock()
_cache: Dict[str, Tuple[Tuple[float, ...], "Directory"]] = {}


@dataclass
class Directory:
    """Procedures and offices of one knowledge folder."""

    procedures: Dict[str, Procedure]
    offices: List[Office]
    by_id: Dict[str, Office] = field(default_factory=dict)


def _stamp(kb_dir: Path) -> Tuple[float, ...]:
    paths = [kb_dir / "offices.yml", kb_dir / "deployment.yml", kb_dir / "procedures"]
    out = []
    for p in paths:
        try:
            out.append(os.stat(p).st_mtime_ns)
        except OSError:
            out.append(0)
    return tuple(out)


def with_defaults(office: Office) -> Office:
    """The office with the deployment's defaults for the facts it lacks, those facts marked unconfirmed."""
    d = defaults()
    missing = set(office.unconfirmed)
    changes: Dict[str, object] = {}
    if not office.hours:
        changes["hours"] = {k: list(v) for k, v in (d.get("hours") or {}).items()}
        missing.add("hours")
    if "counters" in missing and d.get("counters"):
        changes["counters"] = int(d["counters"])
    if "hours" in missing and d.get("slot_minutes") and not office.hours:
        changes["slot_minutes"] = int(d["slot_minutes"])
    if not office.address:
        template = d.get("police_address" if office.kind == "commune_police" else "commune_address") or ""
        unit = office.name.split(" ", 2)[-1] if office.name.startswith("Công an") else office.name.split(" ", 1)[-1]
        changes["address"] = template.format(unit=unit, province=admin_units.province_name(province_key()))
        missing.add("address")
    if not office.phone:
        missing.add("phone")
    if office.coordinates is None:
        missing.add("coordinates")
    if office.status == "verified":
        missing.clear()  # an officer confirmed the entry as a whole
    changes["unconfirmed"] = [f for f in ("address", "phone", "hours", "counters", "coordinates") if f in missing]
    return dataclasses.replace(office, **changes)  # type: ignore[arg-type]


def directory(kb_dir: Optional[Path] = None) -> Directory:
    """The offices and procedures, re-read when a file changed since the last call."""
    kb = Path(kb_dir or KB_DIR)
    stamp = _stamp(kb)
    with _lock:
        hit = _cache.get(str(kb))
        if hit and hit[0] == stamp:
            return hit[1]
    errors: List[str] = []
    procedures = load_procedures(kb / "procedures", errors, base=kb)
    offices = [with_defaults(o) for o in load_offices(kb / "offices.yml", procedures, errors, base=kb)]
    found = Directory(procedures, offices, {o.id: o for o in offices})
    with _lock:
        _cache[str(kb)] = (stamp, found)
    return found


def reload() -> None:
    """Forget the loaded directory (the next call reads the files again)."""
    with _lock:
        _cache.clear()


def all_offices() -> List[Office]:
    """Every office of the deployment."""
    return list(directory().offices)


def get_office(office_id: str) -> Optional[Office]:
    """The office with this id, or None."""
    return directory().by_id.get(office_id or "")


def get_procedure(key: str) -> Optional[Procedure]:
    """The procedure with this key, or None."""
    return directory().procedures.get(key) if key else None


def receives(office: Office, procedure_key: str) -> bool:
    """True when ``office`` receives dossiers of ``procedure_key``."""
    if procedure_key in office.receives:
        return True
    if ALL_COMMUNE in office.receives:
        proc = get_procedure(procedure_key)
        # all_commune covers the procedures whose submit.offices names the commune People's Committee.
        return proc is not None and "commune" in (proc.submit.extra.get("offices") or [])
    return False


def offices_for_procedure(procedure_key: str) -> List[Office]:
    """Offices that receive ``procedure_key`` (empty when none does)."""
    return [o for o in all_offices() if receives(o, procedure_key)]


def nearest_offices(lat: float, lon: float, procedure_key: Optional[str] = None, n: int = 3) -> List[Office]:
    """The ``n`` closest offices with coordinates (that receive ``procedure_key`` when given)."""
    candidates = offices_for_procedure(procedure_key) if procedure_key else all_offices()
    located = [o for o in candidates if o.coordinates is not None]
    located.sort(key=lambda o: haversine_km(lat, lon, o.coordinates[0], o.coordinates[1]))  # type: ignore[index]
    return located[:n]


def nearest_office(lat: float, lon: float, procedure_key: Optional[str] = None) -> Optional[Office]:
    """The closest office with coordinates (that receives ``procedure_key`` when given)."""
    found = nearest_offices(lat, lon, procedure_key, 1)
    return found[0] if found else None


def redirect_for(office: Office, procedure_key: str) -> Optional[List[Office]]:
    """None when ``office`` receives the procedure; else the offices that do (its own unit's first)."""
    if receives(office, procedure_key):
        return None
    others = offices_for_procedure(procedure_key)
    slug = office.id[len("cong_an_"):] if office.id.startswith("cong_an_") else office.id
    others.sort(key=lambda o: (o.id not in (slug, "cong_an_" + slug), o.coordinates is None,
                               haversine_km(*office.coordinates, *o.coordinates)
                               if office.coordinates and o.coordinates else 0.0))
    return others


def match_name(text: str, offices: Optional[List[Office]] = None) -> Optional[Office]:
    """The office whose distinctive name words best cover ``text`` (diacritics and old names tolerated)."""
    all_words = set(admin_units.words(text))
    wanted = all_words - GENERIC
    if not wanted:
        return None
    best, best_score = None, (0.0, 0)
    for office in offices if offices is not None else all_offices():
        for name in [office.name] + list(office.aliases) + list(office.old_names):
            name_words = set(admin_units.words(name))
            key = name_words - GENERIC
            if not key:
                continue
            # Full coverage of the distinctive words first; then the name sharing most words, kind words included
            # ("công an phường Yên Hòa" is the police office, not the ward's People's Committee).
            score = (len(wanted & key) / len(key), len(all_words & name_words))
            if score > best_score:
                best, best_score = office, score
    return best if best_score[0] >= 0.99 else None


# What a citizen's place words resolved to.
FOUND, CHOOSE, OTHER_PROVINCE, NOT_FOUND = "found", "choose", "other_province", "not_found"


@dataclass
class Place:
    """The outcome of :func:`resolve_place`."""

    status: str
    office: Optional[Office] = None
    candidates: List[Office] = field(default_factory=list)
    said: str = ""            # the name as the division data writes it ("Phường Dịch Vọng Hậu", "Quận Long Biên")
    old: bool = False         # ``said`` is a district-era name
    prefixed: bool = False    # the place was written with its kind word ("phường X"), or by an office's name
    province: str = ""        # for OTHER_PROVINCE: the province the unit belongs to


def _office_of_unit(unit: admin_units.Unit, police: bool, procedure_key: Optional[str]) -> Optional[Office]:
    commune, station = get_office(unit.slug), get_office("cong_an_" + unit.slug)
    if police and station is not None:
        return station
    if procedure_key and commune is not None and station is not None and not receives(commune, procedure_key) \
            and receives(station, procedure_key):
        return station  # "căn cước ở phường X": the ward's police office receives it, not the People's Committee
    return commune or station


def resolve_place(text: str, procedure_key: Optional[str] = None) -> Place:
    """Which office the citizen named: a ward or commune (current or district-era name), an office by name, or
    a unit of another province."""
    matches = admin_units.find_units(text, province_key())
    words = admin_units.words(text)
    police = any(w in ("cong", "ca") for w in words) and ("an" in words or "ca" in words)
    for match in matches[-1:]:  # the last place named wins ("từ Hoàng Mai sang Định Công")
        local = match.in_province(province_key())
        old = match.how != admin_units.CURRENT
        if not local:
            unit = match.units[0] if match.units else None
            return Place(OTHER_PROVINCE, said=match.said, province=unit.province if unit else "", prefixed=True)
        offices = [o for o in (_office_of_unit(u, police, procedure_key) for u in local) if o is not None]
        if len(offices) == 1:
            return Place(FOUND, offices[0], said=match.said, old=old, prefixed=match.prefixed or police)
        if offices:
            return Place(CHOOSE, candidates=offices, said=match.said, old=old, prefixed=match.prefixed)
    # Offices that are not a ward's (the city's service centre...) by their own names; the wards' offices are
    # found above by the division data, never by loose word overlap ("bắt đầu" is not "xã Bất Bạt").
    named = match_name(text, [o for o in all_offices() if o.kind not in ("commune", "commune_police")])
    if named is not None:
        return Place(FOUND, named, prefixed=True)
    return Place(NOT_FOUND)


def find_office(text: str, procedure_key: Optional[str] = None) -> Optional[Office]:
    """The one office a citizen named, or None (none, several, or outside the deployment)."""
    place = resolve_place(text, procedure_key)
    return place.office if place.status == FOUND else None
