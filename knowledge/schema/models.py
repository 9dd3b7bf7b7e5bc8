"""The knowledge base's records (procedures, offices, holidays) and the vocabulary their fields may take."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple


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
UNSOURCED = ("address", "phone", "hours", "counters", "coordinates")  # facts an office entry may mark unconfirmed

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
