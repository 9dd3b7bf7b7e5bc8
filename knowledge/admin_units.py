"""Vietnam's administrative units after the 2025 reform, and which of them a citizen's words name.

The source is the division data shipped with ``underthesea.address`` (vietnamadminunits, effective 01/7/2025):
every old ward/commune with its old district and province, and the new commune-level unit it went to. From it
this module knows, for any province, the current units and the district-era names that citizens still use, so
"phường Dịch Vọng Hậu" (split in 2025) gives the new wards it went to, "quận Long Biên" the wards that replaced
the district, and "phường Bến Thành" a ward of another province. Loaded lazily, once per process.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from vntext.textnorm import fold

# Words that say which level a name is: ward level (today's units) or district level (abolished in 2025).
WARD_PREFIXES = {("phuong",): "phuong", ("p",): "phuong", ("xa",): "xa", ("thi", "tran"): "thi tran",
                 ("tt",): "thi tran", ("dac", "khu"): "dac khu"}
DISTRICT_PREFIXES = {("quan",): "quan", ("q",): "quan", ("huyen",): "huyen", ("h",): "huyen",
                     ("thi", "xa"): "thi xa", ("tx",): "thi xa"}
_KIND_RE = re.compile(r"^(phường|xã|thị trấn|đặc khu|quận|huyện|thị xã|thành phố)\s+", re.IGNORECASE)
MAX_NAME_WORDS = 5


def words(text: str) -> List[str]:
    """Folded words without shorthand expansion ("hong ha" must stay Hồng Hà, not "không hà")."""
    return re.findall(r"[a-z0-9]+", fold(text or ""))
CURRENT, OLD_WARD, OLD_DISTRICT = "current", "old_ward", "old_district"


@dataclass(frozen=True)
class Unit:
    """A commune-level unit after the 2025 reform."""

    name: str          # "Phường Phú Diễn"
    province_key: str  # "thanhphohanoi"
    province: str      # "Hà Nội" (short name)

    @property
    def slug(self) -> str:
        """The ascii id of the unit, e.g. ``phuong_phu_dien`` (offices are named after it)."""
        return "_".join(words(self.name))

    @property
    def short(self) -> str:
        """'phường Phú Diễn' (the kind in lower case, as in a sentence)."""
        m = _KIND_RE.match(self.name)
        return (m.group(1).lower() + " " + self.name[m.end():]) if m else self.name


@dataclass
class Match:
    """What a text named: current units, an old name (with the units it went to), or nothing."""

    how: str                           # CURRENT, OLD_WARD or OLD_DISTRICT
    said: str                          # the old or current name as written in the data ("Quận Long Biên")
    units: List[Unit] = field(default_factory=list)
    start: int = 0                     # word position in the text (matches are returned in reading order)
    prefixed: bool = False             # written with its kind word ("phường X", "quận Y"), not bare

    def in_province(self, province_key: str) -> List[Unit]:
        """The matched units of one province."""
        return [u for u in self.units if u.province_key == province_key]


@dataclass
class _Entry:
    how: str
    level: str          # "ward" or "district"
    said: str
    units: Dict[Unit, None] = field(default_factory=dict)


def _core(name: str) -> Tuple[str, ...]:
    """The distinctive words of a unit name: 'Phường Dịch Vọng Hậu' -> ('dich', 'vong', 'hau')."""
    return tuple(words(_KIND_RE.sub("", name.strip())))


def _source_path() -> Path:
    import importlib.util

    # Located, not imported: importing underthesea loads its models (seconds); only its data file is needed.
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("underthesea is not installed: the administrative division data is missing")
    return Path(list(spec.submodule_search_locations)[0]) / "address" / "data" / "mapping.json"


@functools.lru_cache(maxsize=1)
def _index() -> Tuple[Dict[Tuple[str, ...], List[_Entry]], Dict[str, str]]:
    with open(_source_path(), encoding="utf-8") as fh:
        data = json.load(fh)
    provinces = {k: v["short"] for k, v in data["province_names"].items()}
    by_core: Dict[Tuple[str, ...], Dict[Tuple[str, str, str], _Entry]] = {}

    def add(core: Tuple[str, ...], how: str, level: str, said: str, unit: Unit) -> None:
        if not core or len(core) > MAX_NAME_WORDS:
            return
        entry = by_core.setdefault(core, {}).setdefault((how, level, said), _Entry(how, level, said))
        entry.units[unit] = None

    for rec in data["ward_mapping"]:
        unit = Unit(rec["new_ward"], rec["new_province_key"], provinces.get(rec["new_province_key"], ""))
        add(_core(rec["new_ward"]), CURRENT, "ward", rec["new_ward"], unit)
        if rec["old_ward"] != rec["new_ward"]:
            add(_core(rec["old_ward"]), OLD_WARD, "ward", rec["old_ward"], unit)
        else:  # an unchanged name can also be a part that went to another unit ("divided")
            add(_core(rec["old_ward"]), OLD_WARD, "ward", rec["old_ward"], unit)
        if rec.get("old_district"):
            add(_core(rec["old_district"]), OLD_DISTRICT, "district", rec["old_district"], unit)
    index = {core: list(entries.values()) for core, entries in by_core.items()}
    return index, provinces


def province_name(province_key: str) -> str:
    """The short name of a province ('Hà Nội'), or the key when unknown."""
    return _index()[1].get(province_key, province_key)


def units_of(province_key: str) -> List[Unit]:
    """Every current commune-level unit of a province, in the order of the source data."""
    seen: Dict[Unit, None] = {}
    with open(_source_path(), encoding="utf-8") as fh:
        data = json.load(fh)
    short = {k: v["short"] for k, v in data["province_names"].items()}
    for rec in data["ward_mapping"]:
        if rec["new_province_key"] == province_key:
            seen.setdefault(Unit(rec["new_ward"], province_key, short.get(province_key, "")), None)
    return list(seen)


def old_names_of(province_key: str) -> Dict[Unit, List[str]]:
    """For each current unit: the district-era names of the old wards and districts that went (partly) to it."""
    out: Dict[Unit, Dict[str, None]] = {}
    with open(_source_path(), encoding="utf-8") as fh:
        data = json.load(fh)
    short = {k: v["short"] for k, v in data["province_names"].items()}
    for rec in data["ward_mapping"]:
        if rec["new_province_key"] != province_key:
            continue
        unit = Unit(rec["new_ward"], province_key, short.get(province_key, ""))
        names = out.setdefault(unit, {})
        if fold(rec["old_ward"]) != fold(rec["new_ward"]):
            names[f"{_lower_kind(rec['old_ward'])} {_lower_kind(rec['old_district'])}".strip()] = None
        if rec.get("old_district"):
            names[_lower_kind(rec["old_district"])] = None
    return {u: list(v) for u, v in out.items()}


def _lower_kind(name: str) -> str:
    m = _KIND_RE.match(name or "")
    return (m.group(1).lower() + " " + name[m.end():]) if m else (name or "")


def _prefix_before(ws: Sequence[str], start: int) -> Tuple[Optional[str], int]:
    """The level word(s) just before ``words[start]``: ('ward'|'district'|None, how many words)."""
    for table, level in ((WARD_PREFIXES, "ward"), (DISTRICT_PREFIXES, "district")):
        for prefix in table:
            n = len(prefix)
            if start >= n and tuple(ws[start - n:start]) == prefix:
                return level, n
    return None, 0


def find_units(text: str, province_key: Optional[str] = None) -> List[Match]:
    """The unit names in ``text``, longest first, each with the current units it means.

    A name preceded by "phường/xã" is a ward, by "quận/huyện/thị xã" an old district; a bare name counts only
    when it is a current unit of ``province_key`` (bare words like "an bình" are too common elsewhere).
    """
    ws = words(text or "")
    index, _ = _index()
    found: List[Match] = []
    used = [False] * len(ws)
    for n in range(min(MAX_NAME_WORDS, len(ws)), 0, -1):
        for i in range(0, len(ws) - n + 1):
            if any(used[i:i + n]):
                continue
            entries = index.get(tuple(ws[i:i + n]))
            if not entries:
                continue
            level, np_ = _prefix_before(ws, i)
            if level is None:
                if n < 2:
                    continue
                entries = [e for e in entries if e.how == CURRENT and province_key and
                           any(u.province_key == province_key for u in e.units)]
                if not entries:
                    continue
            else:
                entries = [e for e in entries if e.level == level]
                if not entries:
                    continue
            match = _pick(entries, province_key)
            if match is None:
                continue
            match.start, match.prefixed = i, level is not None
            found.append(match)
            for j in range(i - np_, i + n):
                used[j] = True
    return sorted(found, key=lambda m: m.start)


def _pick(entries: List[_Entry], province_key: Optional[str]) -> Optional[Match]:
    """Prefer the deployment's province, then a current name over an old one."""
    def rank(e: _Entry) -> Tuple[int, int]:
        local = any(u.province_key == province_key for u in e.units)
        return (0 if local else 1, 0 if e.how == CURRENT else 1)

    entries = sorted(entries, key=rank)
    best = entries[0]
    local = [e for e in entries if any(u.province_key == province_key for u in e.units)]
    if local:
        # Several old names with the same words (two old "xã Tân Lập") in the province: all their units count.
        same = [e for e in local if e.how == best.how]
        units: Dict[Unit, None] = {}
        for e in same:
            units.update({u: None for u in e.units if u.province_key == province_key})
        return Match(best.how, best.said, list(units))
    return Match(best.how, best.said, list(best.units))
