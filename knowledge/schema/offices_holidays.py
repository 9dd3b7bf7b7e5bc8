"""offices.yml and holidays.yml: validate and build the one-stop offices and the public holidays."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Dict, List, Optional

from knowledge.schema.checks import as_text, check_status, date_text, is_text, read_keyed_list, str_list
from knowledge.schema.models import (
    ALL_COMMUNE, HOURS, Holiday, OFFICE_KINDS, Office, Procedure, SLUG, UNSOURCED, WEEKDAYS,
)


def load_offices(path: Path, procedures: Dict[str, Procedure], errors: List[str],
                 base: Optional[Path] = None) -> List[Office]:
    """Load and validate ``offices.yml`` (a missing file means no offices)."""
    err, items = read_keyed_list(path, "offices", errors, base)
    if err is None or not items:
        return []
    allowed = {"id", "name", "kind", "aliases", "old_names", "address", "phone", "coordinates", "hours",
               "counters", "slot_minutes", "receives", "status", "verified_by", "verified_at", "unconfirmed"}
    offices: List[Office] = []
    ids: Dict[str, int] = {}
    for i, raw in enumerate(items):
        p = f"offices[{i}]"
        if not isinstance(raw, dict):
            err.add(p, "must be a mapping")
            continue
        oid = as_text(raw.get("id"))
        if oid:
            p = f"offices[{oid}]"
        for extra in sorted(set(raw) - allowed):
            err.add(f"{p}.{extra}", "unknown field")
        if not oid:
            err.add(f"{p}.id", "missing")
        elif not SLUG.match(oid):
            err.add(f"{p}.id", f"{oid!r} is not an ascii slug")
        elif oid in ids:
            err.add(f"{p}.id", f"duplicate office id (also offices[{ids[oid]}])")
        else:
            ids[oid] = i
        if not is_text(raw.get("name")):
            err.add(f"{p}.name", "missing")
        kind = as_text(raw.get("kind"))
        if kind not in OFFICE_KINDS:
            err.add(f"{p}.kind", f"{kind or None!r} is not one of {', '.join(OFFICE_KINDS)}")
        status = check_status(raw, p, err)
        coords = None
        c = raw.get("coordinates")
        if c is not None:
            if (isinstance(c, dict) and isinstance(c.get("lat"), (int, float)) and isinstance(c.get("lon"), (int, float))
                    and -90 <= c["lat"] <= 90 and -180 <= c["lon"] <= 180):
                coords = (float(c["lat"]), float(c["lon"]))
            else:
                err.add(f"{p}.coordinates", "must be {lat, lon} with numbers in range")
        hours: Dict[str, List[str]] = {}
        h = raw.get("hours")
        if h is not None:
            if not isinstance(h, dict):
                err.add(f"{p}.hours", "must map weekdays (mon..sun) to lists of HH:MM-HH:MM")
            else:
                for day, spans in h.items():
                    if day not in WEEKDAYS:
                        err.add(f"{p}.hours.{day}", f"unknown weekday (use {', '.join(WEEKDAYS)})")
                        continue
                    spans = str_list(spans, f"{p}.hours.{day}", err)
                    for s in spans:
                        if not HOURS.match(s) or s[:5] >= s[6:]:
                            err.add(f"{p}.hours.{day}", f"{s!r} is not a span HH:MM-HH:MM")
                    hours[day] = spans
        ints = {}
        for name, default in (("counters", 1), ("slot_minutes", 30)):
            v = raw.get(name, default)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                err.add(f"{p}.{name}", "must be a positive integer")
                v = default
            ints[name] = v
        receives = str_list(raw.get("receives"), f"{p}.receives", err)
        for j, key in enumerate(receives):
            if key != ALL_COMMUNE and key not in procedures:
                err.add(f"{p}.receives[{j}]", f"unknown procedure key {key!r}")
        offices.append(Office(
            id=oid, name=as_text(raw.get("name")), kind=kind,
            aliases=str_list(raw.get("aliases"), f"{p}.aliases", err),
            old_names=str_list(raw.get("old_names"), f"{p}.old_names", err),
            address=as_text(raw.get("address")), phone=as_text(raw.get("phone")), coordinates=coords, hours=hours,
            counters=ints["counters"], slot_minutes=ints["slot_minutes"], receives=receives, status=status,
            unconfirmed=[f for f in str_list(raw.get("unconfirmed"), f"{p}.unconfirmed", err) if f in UNSOURCED],
        ))
    return offices


def load_holidays(path: Path, errors: List[str], base: Optional[Path] = None) -> List[Holiday]:
    """Load and validate ``holidays.yml`` (a missing file means no holidays)."""
    err, items = read_keyed_list(path, "holidays", errors, base)
    if err is None or not items:
        return []
    out: List[Holiday] = []
    seen = set()
    for i, raw in enumerate(items):
        p = f"holidays[{i}]"
        if not isinstance(raw, dict):
            err.add(p, "must be a mapping {date, name}")
            continue
        for extra in sorted(set(raw) - {"date", "name", "status", "verified_by", "verified_at"}):
            err.add(f"{p}.{extra}", "unknown field")
        if "status" in raw:
            check_status(raw, p, err)
        day = date_text(raw.get("date"))
        if day is None:
            err.add(f"{p}.date", f"{raw.get('date')!r} is not a date YYYY-MM-DD")
        elif day in seen:
            err.add(f"{p}.date", f"duplicate date {day}")
        if not is_text(raw.get("name")):
            err.add(f"{p}.name", "missing")
        if day is not None and day not in seen and is_text(raw.get("name")):
            seen.add(day)
            out.append(Holiday(date=dt.date.fromisoformat(day), name=as_text(raw["name"])))
    return out
