"""Procedure files: validate and build each fact section, the dossier's papers and the whole procedure."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from knowledge.schema.checks import (
    ErrorSink, as_text, check_status, date_text, is_text, read_yaml, relative_name, str_list,
)
from knowledge.schema.models import (
    DOC_ITEM_FIELDS, DocumentItem, DocumentsSection, LINK, OFFICE_KINDS_SUBMIT, ONLINE_LEVELS, OPTIONAL, PORTALS,
    POSTAL, Procedure, REQUIRED, SECTION_COMMON, SECTION_FIELDS, SLUG, Section,
)


def _parse_section(name: str, data: Any, err: ErrorSink) -> Section:
    """Validate and build one fact section."""
    sec_cls = DocumentsSection if name == "documents" else Section
    if not isinstance(data, dict):
        err.add(name, "must be a mapping with at least a status")
        return sec_cls()
    allowed = set(SECTION_COMMON) | set(SECTION_FIELDS[name])
    for extra in sorted(set(data) - allowed):
        err.add(f"{name}.{extra}", "unknown field")
    status = check_status(data, name, err)
    text = data.get("text")
    if text is not None and not isinstance(text, (str, int, float)):
        err.add(f"{name}.text", "must be a text")
        text = ""
    sec = sec_cls(
        status=status, text=as_text(text),
        unconfirmed_items=str_list(data.get("unconfirmed_items"), f"{name}.unconfirmed_items", err),
        verified_by=as_text(data.get("verified_by")), verified_at=date_text(data.get("verified_at")) or "",
    )
    if name == "documents":
        sec.documents = _parse_documents(data.get("items"), err)
        sec.items = [d.line() for d in sec.documents]
    elif "items" in SECTION_FIELDS[name]:
        sec.items = str_list(data.get("items"), f"{name}.items", err)
    if name == "submit":
        offices = str_list(data.get("offices"), "submit.offices", err)
        for i, kind in enumerate(offices):
            if kind not in OFFICE_KINDS_SUBMIT:
                err.add(f"submit.offices[{i}]", f"{kind!r} is not one of {', '.join(OFFICE_KINDS_SUBMIT)}")
        postal = data.get("postal")
        postal_text = as_text(postal) if postal is not None else "unknown"
        if postal_text not in POSTAL:
            err.add("submit.postal", f"{postal!r} is not one of {', '.join(POSTAL)}")
        in_person = data.get("in_person")
        if in_person is not None and not is_text(in_person):
            err.add("submit.in_person", "must be a text")
        sec.extra = {"offices": offices, "postal": postal_text, "in_person": as_text(in_person)}
    elif name == "online":
        level = as_text(data.get("level")) or "unknown"
        if level not in ONLINE_LEVELS:
            err.add("online.level", f"{level!r} is not one of {', '.join(ONLINE_LEVELS)}")
        portals = str_list(data.get("portals"), "online.portals", err)
        for i, portal in enumerate(portals):
            if portal not in PORTALS:
                err.add(f"online.portals[{i}]", f"{portal!r} is not one of {', '.join(PORTALS)}")
        sec.extra = {"level": level, "portals": portals}
    elif name == "processing_time":
        sec.extra = {"deadline_for_citizen": as_text(data.get("deadline_for_citizen"))}
    elif name == "fees":
        sec.extra = {"exemptions": str_list(data.get("exemptions"), "fees.exemptions", err)}
    has_content = sec.text or sec.items or sec.unconfirmed_items or (
        name == "submit" and sec.extra.get("in_person")) or (name == "online" and sec.extra.get("portals"))
    if not has_content:
        err.add(name, "has no content: give items or a text (an unknown section says what to check)")
    return sec


def _parse_documents(items: Any, err: ErrorSink) -> List[DocumentItem]:
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
        if not is_text(item.get("name")):
            err.add(f"{path}.name", "missing")
            continue
        status = ""
        if "status" in item:
            status = check_status(item, path, err)
        out.append(DocumentItem(name=as_text(item["name"]), count=as_text(item.get("count")),
                                template=as_text(item.get("template")), notes=as_text(item.get("notes")),
                                when=as_text(item.get("when")), status=status))
    return out


def parse_procedure(data: Any, file: str, stem: str, errors: List[str]) -> Optional[Procedure]:
    """Validate one procedure mapping and build a :class:`Procedure` (None when unusable)."""
    err = ErrorSink(file, errors)
    if not isinstance(data, dict):
        err.add("(file)", "must be a YAML mapping of procedure fields")
        return None
    for name in REQUIRED:
        if name not in data or data[name] is None:
            err.add(name, "missing (required)")
    for name in sorted(set(data) - set(REQUIRED) - set(OPTIONAL)):
        err.add(name, "unknown field")
    key = as_text(data.get("key"))
    if key:
        if not SLUG.match(key):
            err.add("key", f"{key!r} is not an ascii slug (a-z, 0-9, _)")
        if key != stem:
            err.add("key", f"{key!r} differs from the file name {stem!r}")
    for name in ("name", "official_name", "field", "level", "agency"):
        if name in data and data[name] is not None and not is_text(data[name]):
            err.add(name, "must be a non-empty text")
    link = as_text(data.get("official_link"))
    if link and not LINK.match(link):
        err.add("official_link", f"{link!r} is not an http(s) URL")
    aliases = str_list(data.get("aliases"), "aliases", err, min_len=3) if "aliases" in data else []
    examples = str_list(data.get("examples"), "examples", err)
    related = str_list(data.get("related"), "related", err)
    not_for = str_list(data.get("not_for"), "not_for", err)
    sources = str_list(data.get("sources"), "sources", err) if data.get("sources") is not None else []
    updated = data.get("updated")
    updated_text = date_text(updated) if updated is not None else ""
    if updated is not None and updated_text is None:
        err.add("updated", f"{updated!r} is not a date YYYY-MM-DD")
    codes: List[Dict[str, str]] = []
    raw_codes = data.get("codes")
    if raw_codes is not None:
        if not isinstance(raw_codes, list):
            err.add("codes", "must be a list of {code, status}")
        else:
            for i, c in enumerate(raw_codes):
                if not isinstance(c, dict) or not as_text(c.get("code")):
                    err.add(f"codes[{i}]", "must be a mapping with code and status")
                    continue
                for extra in sorted(set(c) - {"code", "status", "verified_by", "verified_at"}):
                    err.add(f"codes[{i}].{extra}", "unknown field")
                status = check_status(c, f"codes[{i}]", err)
                codes.append({"code": as_text(c["code"]), "status": status})
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
        key=key, name=as_text(data["name"]), official_name=as_text(data["official_name"]), aliases=aliases,
        field=as_text(data["field"]), level=as_text(data["level"]), agency=as_text(data["agency"]), official_link=link,
        submit=sections.get("submit", blank), online=sections.get("online", blank),
        documents=sections.get("documents", DocumentsSection()), steps=sections.get("steps", blank),
        processing_time=sections.get("processing_time", blank), fees=sections.get("fees", blank),
        legal_basis=sections.get("legal_basis", blank), sources=sources, updated=updated_text or "",
        codes=codes, examples=examples, eligibility=sections.get("eligibility"), notes=sections.get("notes"),
        related=related, not_for=not_for, path=file, digest=hashlib.sha256(raw.encode()).hexdigest()[:16],
    )


def relative_name(path: Path, base: Path) -> str:
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
        file = relative_name(path, base)
        err = ErrorSink(file, errors)
        data = read_yaml(path, err)
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
        err = ErrorSink(proc.path, errors)
        for i, other in enumerate(proc.related):
            if other == proc.key:
                err.add(f"related[{i}]", "a procedure cannot be related to itself")
            elif other not in procedures:
                err.add(f"related[{i}]", f"unknown procedure key {other!r}")
    return procedures
