"""Load and validate the knowledge base (docs/knowledge-schema.md): procedures, offices and holidays.

Every problem is collected as ``file: field: message``; loading never stops at the first error.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

STATUSES = ("sourced", "verified", "unconfirmed")
OFFICE_KINDS_SUBMIT = ("commune", "commune_police", "hcc_center", "province_police", "other")
OFFICE_KINDS = ("commune", "commune_police", "hcc_center")
ONLINE_LEVELS = ("full", "partial", "none", "unknown")
PORTALS = ("dichvucong", "vneid", "bocongan", "province")
POSTAL = ("yes", "no", "unknown")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLUG = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
LINK = re.compile(r"^https?://\S+$")
ALL_COMMUNE = "all_commune"

REQUIRED = ("key", "name", "official_name", "aliases", "field", "level", "agency", "official_link", "submit",
            "online", "documents", "steps", "processing_time", "fees", "legal_basis", "sources", "updated")
OPTIONAL = ("codes", "examples", "eligibility", "notes", "related", "not_for")
SECTION_COMMON = ("status", "verified_by", "verified_at", "unconfirmed_items", "text")
SECTION_FIELDS: Dict[str, Tuple[str, ...]] = {
    "submit": ("offices", "in_person", "postal"),
    "online": ("level", "portals"),
    "documents": ("items",),
    "steps": ("items",),
    "processing_time": ("deadline_for_citizen",),
    "fees": ("exemptions",),
    "eligibility": ("items",),
    "legal_basis": ("items",),
    "notes": ("items",),
}
DOC_ITEM_FIELDS = ("name", "count", "template", "notes", "when", "status")


class KnowledgeError(Exception):
    """The knowledge base has validation errors (``errors`` lists them as ``file: field: message``)."""

    def __init__(self, errors: Sequence[str]):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass
class Section:
    """One fact section of a procedure with its confirmation status."""

    status: str = "unconfirmed"
    text: str = ""
    items: List[str] = field(default_factory=list)
    unconfirmed_items: List[str] = field(default_factory=list)
    verified_by: str = ""
    verified_at: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        """True when the section may be stated as fact (sourced or verified)."""
        return self.status in ("sourced", "verified")

    @property
    def empty(self) -> bool:
        """True when the section holds no content at all."""
        return not (self.text or self.items or self.unconfirmed_items)


@dataclass
class DocumentItem:
    """One paper of a dossier."""

    name: str
    count: str = ""
    template: str = ""
    notes: str = ""
    when: str = ""
    status: str = ""       # empty: inherits the section's status

    def line(self, notes: bool = True) -> str:
        """The item as one readable line (without its notes when ``notes`` is False)."""
        text = self.name + (f" ({self.count})" if self.count else "")
        if self.when:
            when = self.when[0].lower() + self.when[1:] if self.when[1:2].islower() else self.when
            text += f" - {when}" if when.startswith(("trường hợp", "nếu", "khi", "chỉ khi")) \
                else f" - trường hợp {when}"
        if notes and self.notes:
            text += (". " if self.notes[:1].isupper() else "; ") + self.notes
        return text


@dataclass
class DocumentsSection(Section):
    """The dossier: a list of papers."""

    documents: List[DocumentItem] = field(default_factory=list)


@dataclass
class Procedure:
    """One administrative procedure of the knowledge base."""

    key: str
    name: str
    official_name: str
    aliases: List[str]
    field: str
    level: str
    agency: str
    official_link: str
    submit: Section
    online: Section
    documents: DocumentsSection
    steps: Section
    processing_time: Section
    fees: Section
    legal_basis: Section
    sources: List[str]
    updated: str
    codes: List[Dict[str, str]] = field(default_factory=list)
    examples: List[str] = field(default_factory=list)
    eligibility: Optional[Section] = None
    notes: Optional[Section] = None
    related: List[str] = field(default_factory=list)
    not_for: List[str] = field(default_factory=list)   # look-alikes this procedure does not cover (decline)
    path: str = ""
    digest: str = ""

    def sections(self) -> Dict[str, Section]:
        """The fact sections present, by schema name."""
        out: Dict[str, Section] = {
            "submit": self.submit, "online": self.online, "documents": self.documents, "steps": self.steps,
            "processing_time": self.processing_time, "fees": self.fees, "legal_basis": self.legal_basis,
        }
        if self.eligibility is not None:
            out["eligibility"] = self.eligibility
        if self.notes is not None:
            out["notes"] = self.notes
        return out

    def unconfirmed_count(self) -> int:
        """Number of facts that still need checking: unconfirmed sections, items and codes."""
        count = 0
        for sec in self.sections().values():
            if sec.status == "unconfirmed" and not sec.empty:
                count += 1
            count += len(sec.unconfirmed_items)
        count += sum(1 for d in self.documents.documents if d.status == "unconfirmed"
                     and self.documents.status != "unconfirmed")
        count += sum(1 for c in self.codes if c.get("status") == "unconfirmed")
        return count


@dataclass
class Office:
    """A one-stop office that receives dossiers."""

    id: str
    name: str
    kind: str
    aliases: List[str] = field(default_factory=list)
    old_names: List[str] = field(default_factory=list)
    address: str = ""
    phone: str = ""
    coordinates: Optional[Tuple[float, float]] = None
    hours: Dict[str, List[str]] = field(default_factory=dict)
    counters: int = 1
    slot_minutes: int = 30
    receives: List[str] = field(default_factory=list)
    status: str = "unconfirmed"
    unconfirmed: List[str] = field(default_factory=list)  # facts not from any source (defaults fill them)


@dataclass
class Holiday:
    """A public holiday (offices closed)."""

    date: dt.date
    name: str


@dataclass
class KnowledgeBase:
    """Everything loaded from the knowledge folder, with the validation errors found on the way."""

    procedures: Dict[str, Procedure] = field(default_factory=dict)
    offices: List[Office] = field(default_factory=list)
    holidays: List[Holiday] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        """A short digest of every procedure's content: changes whenever the content changes."""
        h = hashlib.sha256()
        for key in sorted(self.procedures):
            h.update(key.encode())
            h.update(self.procedures[key].digest.encode())
        return h.hexdigest()[:16]


class _Errors:
    """Collects ``file: field: message`` lines for one file."""

    def __init__(self, file: str, sink: List[str]):
        self.file = file
        self.sink = sink

    def add(self, path: str, message: str) -> None:
        """Record one problem."""
        self.sink.append(f"{self.file}: {path or '(file)'}: {message}")


# ----------------------------------------------------------------------------------------------- helpers
def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _text(value: Any) -> str:
    """Scalars as stripped text (YAML may give numbers or dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _date_text(value: Any) -> Optional[str]:
    """YYYY-MM-DD for a YAML date or a valid date string, else None."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    return None


def _str_list(value: Any, path: str, err: _Errors, *, min_len: int = 0, allow_none: bool = True) -> List[str]:
    """A list of non-empty strings, reporting anything else."""
    if value is None:
        if not allow_none or min_len:
            err.add(path, "missing" if value is None else "must be a list")
        return []
    if not isinstance(value, list):
        err.add(path, "must be a list of texts")
        return []
    out: List[str] = []
    for i, item in enumerate(value):
        if isinstance(item, (str, int, float)) and not isinstance(item, bool) and _text(item):
            out.append(_text(item))
        else:
            err.add(f"{path}[{i}]", "must be a non-empty text")
    if len(out) < min_len:
        err.add(path, f"needs at least {min_len} entries, has {len(out)}")
    return out


def _read_yaml(path: Path, err: _Errors) -> Any:
    """Parse one YAML file, recording syntax errors."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        err.add(where, f"invalid YAML: {getattr(exc, 'problem', None) or exc}")
    except (OSError, UnicodeDecodeError) as exc:
        err.add("(file)", f"cannot read: {exc}")
    return None


def _check_status(data: Dict[str, Any], path: str, err: _Errors, *, required: bool = True) -> str:
    """Validate status / verified_by / verified_at of a mapping; returns the status."""
    status = data.get("status")
    if status is None:
        if required:
            err.add(f"{path}.status" if path else "status", f"missing (one of {', '.join(STATUSES)})")
        return "unconfirmed"
    if status not in STATUSES:
        err.add(f"{path}.status" if path else "status", f"{status!r} is not one of {', '.join(STATUSES)}")
        return "unconfirmed"
    if status == "verified":
        prefix = f"{path}." if path else ""
        if not _is_text(_text(data.get("verified_by")) or None):
            err.add(f"{prefix}verified_by", "required when status is verified")
        if data.get("verified_at") is None:
            err.add(f"{prefix}verified_at", "required when status is verified (YYYY-MM-DD)")
        elif _date_text(data.get("verified_at")) is None:
            err.add(f"{prefix}verified_at", f"{data.get('verified_at')!r} is not a date YYYY-MM-DD")
    return status


# ----------------------------------------------------------------------------------------------- sections
def _parse_section(name: str, data: Any, err: _Errors) -> Section:
    """Validate and build one fact section."""
    sec_cls = DocumentsSection if name == "documents" else Section
    if not isinstance(data, dict):
        err.add(name, "must be a mapping with at least a status")
        return sec_cls()
    allowed = set(SECTION_COMMON) | set(SECTION_FIELDS[name])
    for extra in sorted(set(data) - allowed):
        err.add(f"{name}.{extra}", "unknown field")
    status = _check_status(data, name, err)
    text = data.get("text")
    if text is not None and not isinstance(text, (str, int, float)):
        err.add(f"{name}.text", "must be a text")
        text = ""
    sec = sec_cls(
        status=status, text=_text(text),
        unconfirmed_items=_str_list(data.get("unconfirmed_items"), f"{name}.unconfirmed_items", err),
        verified_by=_text(data.get("verified_by")), verified_at=_date_text(data.get("verified_at")) or "",
    )
    if name == "documents":
        sec.documents = _parse_documents(data.get("items"), err)
        sec.items = [d.line() for d in sec.documents]
    elif "items" in SECTION_FIELDS[name]:
        sec.items = _str_list(data.get("items"), f"{name}.items", err)
    if name == "submit":
        offices = _str_list(data.get("offices"), "submit.offices", err)
        for i, kind in enumerate(offices):
            if kind not in OFFICE_KINDS_SUBMIT:
                err.add(f"submit.offices[{i}]", f"{kind!r} is not one of {', '.join(OFFICE_KINDS_SUBMIT)}")
        postal = data.get("postal")
        postal_text = _text(postal) if postal is not None else "unknown"
        if postal_text not in POSTAL:
            err.add("submit.postal", f"{postal!r} is not one of {', '.join(POSTAL)}")
        in_person = data.get("in_person")
        if in_person is not None and not _is_text(in_person):
            err.add("submit.in_person", "must be a text")
        sec.extra = {"offices": offices, "postal": postal_text, "in_person": _text(in_person)}
    elif name == "online":
        level = _text(data.get("level")) or "unknown"
        if level not in ONLINE_LEVELS:
            err.add("online.level", f"{level!r} is not one of {', '.join(ONLINE_LEVELS)}")
        portals = _str_list(data.get("portals"), "online.portals", err)
        for i, portal in enumerate(portals):
            if portal not in PORTALS:
                err.add(f"online.portals[{i}]", f"{portal!r} is not one of {', '.join(PORTALS)}")
        sec.extra = {"level": level, "portals": portals}
    elif name == "processing_time":
        sec.extra = {"deadline_for_citizen": _text(data.get("deadline_for_citizen"))}
    elif name == "fees":
        sec.extra = {"exemptions": _str_list(data.get("exemptions"), "fees.exemptions", err)}
    has_content = sec.text or sec.items or sec.unconfirmed_items or (
        name == "submit" and sec.extra.get("in_person")) or (name == "online" and sec.extra.get("portals"))
    if not has_content:
        err.add(name, "has no content: give items or a text (an unknown section says what to check)")
    return sec


def _parse_documents(items: Any, err: _Errors) -> List[DocumentItem]:
    """Validate the dossier's papers (mappings with a name; a plain text is accepted as the name)."""
    if items is None:
        return []
    if not isinstance(items, list):
        err.add("documents.items", "must be a list")
        return []
    out: List[DocumentItem] = []
    for i, item in enumerate(items):
        path = f"documents.items[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(DocumentItem(name=item.strip()))
            continue
        if not isinstance(item, dict):
            err.add(path, "must be a mapping with a name")
            continue
        for extra in sorted(set(item) - set(DOC_ITEM_FIELDS)):
            err.add(f"{path}.{extra}", "unknown field")
        if not _is_text(item.get("name")):
            err.add(f"{path}.name", "missing")
            continue
        status = ""
        if "status" in item:
            status = _check_status(item, path, err)
        out.append(DocumentItem(name=_text(item["name"]), count=_text(item.get("count")),
                                template=_text(item.get("template")), notes=_text(item.get("notes")),
                                when=_text(item.get("when")), status=status))
    return out


# ----------------------------------------------------------------------------------------------- procedures
def parse_procedure(data: Any, file: str, stem: str, errors: List[str]) -> Optional[Procedure]:
    """Validate one procedure mapping and build a :class:`Procedure` (None when unusable)."""
    err = _Errors(file, errors)
    if not isinstance(data, dict):
        err.add("(file)", "must be a YAML mapping of procedure fields")
        return None
    for name in REQUIRED:
        if name not in data or data[name] is None:
            err.add(name, "missing (required)")
    for name in sorted(set(data) - set(REQUIRED) - set(OPTIONAL)):
        err.add(name, "unknown field")
    key = _text(data.get("key"))
    if key:
        if not SLUG.match(key):
            err.add("key", f"{key!r} is not an ascii slug (a-z, 0-9, _)")
        if key != stem:
            err.add("key", f"{key!r} differs from the file name {stem!r}")
    for name in ("name", "official_name", "field", "level", "agency"):
        if name in data and data[name] is not None and not _is_text(data[name]):
            err.add(name, "must be a non-empty text")
    link = _text(data.get("official_link"))
    if link and not LINK.match(link):
        err.add("official_link", f"{link!r} is not an http(s) URL")
    aliases = _str_list(data.get("aliases"), "aliases", err, min_len=3) if "aliases" in data else []
    examples = _str_list(data.get("examples"), "examples", err)
    related = _str_list(data.get("related"), "related", err)
    not_for = _str_list(data.get("not_for"), "not_for", err)
    sources = _str_list(data.get("sources"), "sources", err) if data.get("sources") is not None else []
    updated = data.get("updated")
    updated_text = _date_text(updated) if updated is not None else ""
    if updated is not None and updated_text is None:
        err.add("updated", f"{updated!r} is not a date YYYY-MM-DD")
    codes: List[Dict[str, str]] = []
    raw_codes = data.get("codes")
    if raw_codes is not None:
        if not isinstance(raw_codes, list):
            err.add("codes", "must be a list of {code, status}")
        else:
            for i, c in enumerate(raw_codes):
                if not isinstance(c, dict) or not _text(c.get("code")):
                    err.add(f"codes[{i}]", "must be a mapping with code and status")
                    continue
                for extra in sorted(set(c) - {"code", "status", "verified_by", "verified_at"}):
                    err.add(f"codes[{i}].{extra}", "unknown field")
                status = _check_status(c, f"codes[{i}]", err)
                codes.append({"code": _text(c["code"]), "status": status})
    sections: Dict[str, Section] = {}
    for name in SECTION_FIELDS:
        if data.get(name) is not None:
            sections[name] = _parse_section(name, data[name], err)
    if not sources and data.get("sources") is not None:
        if any(s.status != "unconfirmed" for s in sections.values()):
            err.add("sources", "empty although some section is sourced or verified")
    if not key or any(data.get(n) is None for n in REQUIRED):
        return None
    blank = Section()
    raw = yaml.safe_dump(data, allow_unicode=True, sort_keys=True, default_flow_style=False)
    return Procedure(
        key=key, name=_text(data["name"]), official_name=_text(data["official_name"]), aliases=aliases,
        field=_text(data["field"]), level=_text(data["level"]), agency=_text(data["agency"]), official_link=link,
        submit=sections.get("submit", blank), online=sections.get("online", blank),
        documents=sections.get("documents", DocumentsSection()), steps=sections.get("steps", blank),
        processing_time=sections.get("processing_time", blank), fees=sections.get("fees", blank),
        legal_basis=sections.get("legal_basis", blank), sources=sources, updated=updated_text or "",
        codes=codes, examples=examples, eligibility=sections.get("eligibility"), notes=sections.get("notes"),
        related=related, not_for=not_for, path=file, digest=hashlib.sha256(raw.encode()).hexdigest()[:16],
    )


def _rel(path: Path, base: Path) -> str:
    """``path`` relative to ``base``'s parent when possible (readable error prefixes)."""
    try:
        return str(path.relative_to(base.parent))
    except ValueError:
        return str(path)


def load_procedures(proc_dir: Path, errors: List[str], base: Optional[Path] = None) -> Dict[str, Procedure]:
    """Load every ``*.yml``/``*.yaml`` procedure in ``proc_dir``; cross-file checks (unique keys, related)."""
    base = base or proc_dir.parent
    procedures: Dict[str, Procedure] = {}
    seen: Dict[str, str] = {}
    files = sorted(list(proc_dir.glob("*.yml")) + list(proc_dir.glob("*.yaml"))) if proc_dir.is_dir() else []
    for path in files:
        file = _rel(path, base)
        err = _Errors(file, errors)
        data = _read_yaml(path, err)
        if data is None and path.stat().st_size == 0:
            err.add("(file)", "empty file")
            continue
        proc = parse_procedure(data, file, path.stem, errors)
        if proc is None:
            continue
        if proc.key in seen:
            err.add("key", f"duplicate key {proc.key!r} (also in {seen[proc.key]})")
            continue
        seen[proc.key] = file
        procedures[proc.key] = proc
    for proc in procedures.values():
        err = _Errors(proc.path, errors)
        for i, other in enumerate(proc.related):
            if other == proc.key:
                err.add(f"related[{i}]", "a procedure cannot be related to itself")
            elif other not in procedures:
                err.add(f"related[{i}]", f"unknown procedure key {other!r}")
    return procedures


def _read_keyed_list(path: Path, key: str, errors: List[str],
                     base: Optional[Path]) -> Tuple[Optional["_Errors"], List[Any]]:
    """(error collector, items) of a YAML file holding a list under ``key``; no file means no items."""
    if not path.exists():
        return None, []
    err = _Errors(_rel(path, base or path.parent), errors)
    data = _read_yaml(path, err)
    if data is None:
        return err, []
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        err.add(key, f"must be a list under the key '{key}'")
        return err, []
    return err, data[key]


# ----------------------------------------------------------------------------------------------- offices
UNSOURCED = ("address", "phone", "hours", "counters", "coordinates")  # facts an office entry may mark unconfirmed


def load_offices(path: Path, procedures: Dict[str, Procedure], errors: List[str],
                 base: Optional[Path] = None) -> List[Office]:
    """Load and validate ``offices.yml`` (a missing file means no offices)."""
    err, items = _read_keyed_list(path, "offices", errors, base)
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
        oid = _text(raw.get("id"))
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
        if not _is_text(raw.get("name")):
            err.add(f"{p}.name", "missing")
        kind = _text(raw.get("kind"))
        if kind not in OFFICE_KINDS:
            err.add(f"{p}.kind", f"{kind or None!r} is not one of {', '.join(OFFICE_KINDS)}")
        status = _check_status(raw, p, err)
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
                    spans = _str_list(spans, f"{p}.hours.{day}", err)
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
        receives = _str_list(raw.get("receives"), f"{p}.receives", err)
        for j, key in enumerate(receives):
            if key != ALL_COMMUNE and key not in procedures:
                err.add(f"{p}.receives[{j}]", f"unknown procedure key {key!r}")
        offices.append(Office(
            id=oid, name=_text(raw.get("name")), kind=kind,
            aliases=_str_list(raw.get("aliases"), f"{p}.aliases", err),
            old_names=_str_list(raw.get("old_names"), f"{p}.old_names", err),
            address=_text(raw.get("address")), phone=_text(raw.get("phone")), coordinates=coords, hours=hours,
            counters=ints["counters"], slot_minutes=ints["slot_minutes"], receives=receives, status=status,
            unconfirmed=[f for f in _str_list(raw.get("unconfirmed"), f"{p}.unconfirmed", err) if f in UNSOURCED],
        ))
    return offices


def load_holidays(path: Path, errors: List[str], base: Optional[Path] = None) -> List[Holiday]:
    """Load and validate ``holidays.yml`` (a missing file means no holidays)."""
    err, items = _read_keyed_list(path, "holidays", errors, base)
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
            _check_status(raw, p, err)
        day = _date_text(raw.get("date"))
        if day is None:
            err.add(f"{p}.date", f"{raw.get('date')!r} is not a date YYYY-MM-DD")
        elif day in seen:
            err.add(f"{p}.date", f"duplicate date {day}")
        if not _is_text(raw.get("name")):
            err.add(f"{p}.name", "missing")
        if day is not None and day not in seen and _is_text(raw.get("name")):
            seen.add(day)
            out.append(Holiday(date=dt.date.fromisoformat(day), name=_text(raw["name"])))
    return out


def load_knowledge_base(kb_dir: Path) -> KnowledgeBase:
    """Load procedures, offices and holidays under ``kb_dir``, collecting every validation error."""
    kb_dir = Path(kb_dir)
    errors: List[str] = []
    procedures = load_procedures(kb_dir / "procedures", errors, base=kb_dir)
    offices = load_offices(kb_dir / "offices.yml", procedures, errors, base=kb_dir)
    holidays = load_holidays(kb_dir / "holidays.yml", errors, base=kb_dir)
    return KnowledgeBase(procedures=procedures, offices=offices, holidays=holidays, errors=errors)


def validate(kb_dir: Path) -> List[str]:
    """All validation errors of the knowledge base under ``kb_dir`` (empty list when valid)."""
    kb = load_knowledge_base(kb_dir)
    errors = list(kb.errors)
    if not kb.procedures and not errors:
        errors.append(f"{Path(kb_dir) / 'procedures'}: (folder): no procedure files found")
    return errors


def validate_with(kb_dir: Path, changes: Dict[str, Optional[str]]) -> List[str]:
    """The errors :func:`validate` would report if the files in ``changes`` held the given text.

    ``changes`` maps a path relative to ``kb_dir`` (``procedures/khai_sinh.yml``, ``offices.yml``) to its candidate
    text (None: the file removed). The knowledge files are copied to a temporary folder of the same name, so the
    checks and the ``file: field: message`` prefixes are exactly those of ``python -m knowledge validate``.
    """
    import shutil
    import tempfile

    kb_dir = Path(kb_dir)
    with tempfile.TemporaryDirectory(prefix="kb-candidate-") as tmp:
        copy = Path(tmp) / kb_dir.name
        (copy / "procedures").mkdir(parents=True)
        for pattern in ("procedures/*.yml", "procedures/*.yaml", "offices.yml", "holidays.yml"):
            for path in kb_dir.glob(pattern):
                shutil.copyfile(path, copy / path.relative_to(kb_dir))
        for rel, text in changes.items():
            target = (copy / rel).resolve()
            if copy.resolve() not in target.parents:  # a key like ../../x must never name a file elsewhere
                raise ValueError(f"outside the knowledge folder: {rel!r}")
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        return validate(copy)
