"""Split procedures into searchable chunks: one per aspect section, plus one per alias and example line."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List

from .schema import Procedure

# chunk aspect -> the answer aspect it supports (notes support a general answer)
ASPECT_OF_CHUNK = {
    "general": "general", "documents": "documents", "fee": "fee", "time": "time", "place": "place",
    "steps": "steps", "online": "online", "eligibility": "eligibility", "notes": "general",
    "alias": "general", "example": "general", "background": "general",
}
OFFICE_WORDS = {
    "commune": "UBND xã, phường, đặc khu (bộ phận một cửa)",
    "commune_police": "Công an xã, phường",
    "hcc_center": "Trung tâm Phục vụ hành chính công",
    "province_police": "Công an tỉnh, thành phố",
    "other": "cơ quan khác",
}
PORTAL_WORDS = {
    "dichvucong": "Cổng Dịch vụ công quốc gia",
    "vneid": "ứng dụng VNeID",
    "bocongan": "Cổng dịch vụ công Bộ Công an",
    "province": "Cổng dịch vụ công của tỉnh, thành phố",
}
ONLINE_LEVEL_WORDS = {
    "full": "nộp trực tuyến toàn trình",
    "partial": "nộp trực tuyến một phần",
    "none": "chưa nộp trực tuyến được",
    "unknown": "",
}


@dataclass(frozen=True)
class Chunk:
    """One searchable piece of a procedure."""

    id: str          # "<key>#<kind>[<n>]", stable across rebuilds
    key: str         # procedure key
    kind: str        # general, documents, fee, time, place, steps, online, eligibility, notes, alias, example
    text: str

    @property
    def aspect(self) -> str:
        """The answer aspect this chunk supports."""
        return ASPECT_OF_CHUNK[self.kind]

    def content_hash(self, prefix: str = "") -> str:
        """Digest of exactly what is embedded (prefix + text)."""
        return hashlib.sha1((prefix + self.text).encode("utf-8")).hexdigest()[:20]

    def to_dict(self) -> Dict[str, str]:
        """JSON-friendly form."""
        return asdict(self)


def _join(parts: Iterable[str], sep: str = "; ") -> str:
    return sep.join(p.strip().rstrip(".;") for p in parts if p and p.strip())


def section_texts(p: Procedure) -> Dict[str, str]:
    """Readable text of each aspect section, headed by the procedure name (what gets embedded and indexed)."""
    n = p.name
    out: Dict[str, str] = {}
    out["general"] = f"{n}. {p.official_name}. Còn gọi là: {_join(p.aliases, ', ')}." + (
        f" Câu hỏi thường gặp: {_join(p.examples, ' ')}" if p.examples else "") + f" Lĩnh vực {p.field}."
    docs = [d.line() for d in p.documents.documents] or p.documents.items
    out["documents"] = f"Hồ sơ, giấy tờ cần chuẩn bị khi {n}: " + _join(
        docs + ([p.documents.text] if p.documents.text else []) + p.documents.unconfirmed_items)
    fees = p.fees
    out["fee"] = f"Lệ phí, phí, chi phí {n}: " + _join(
        [fees.text] + list(fees.extra.get("exemptions", [])) + fees.unconfirmed_items)
    t = p.processing_time
    out["time"] = f"Thời gian giải quyết, bao lâu có kết quả khi {n}: " + _join(
        [t.text, (f"Thời hạn người dân phải làm: {t.extra['deadline_for_citizen']}"
                  if t.extra.get("deadline_for_citizen") else "")] + t.unconfirmed_items)
    s = p.submit
    offices = [OFFICE_WORDS.get(o, o) for o in s.extra.get("offices", [])]
    out["place"] = f"Nơi nộp hồ sơ, làm ở đâu khi {n}: " + _join(
        [s.extra.get("in_person", ""), s.text, "Cơ quan: " + p.agency, "Cấp: " + p.level]
        + (["Nơi tiếp nhận: " + ", ".join(offices)] if offices else [])
        + (["Có thể gửi qua bưu chính"] if s.extra.get("postal") == "yes" else []) + s.unconfirmed_items)
    out["steps"] = f"Các bước, trình tự thực hiện {n}: " + _join(
        p.steps.items + ([p.steps.text] if p.steps.text else []) + p.steps.unconfirmed_items)
    o = p.online
    portals = [PORTAL_WORDS.get(x, x) for x in o.extra.get("portals", [])]
    out["online"] = f"Làm online, nộp trực tuyến qua mạng {n}: " + _join(
        [o.text, ONLINE_LEVEL_WORDS.get(o.extra.get("level", "unknown"), "")]
        + (["Cổng: " + ", ".join(portals)] if portals else []) + o.unconfirmed_items)
    if p.eligibility is not None:
        e = p.eligibility
        out["eligibility"] = f"Điều kiện, đối tượng được {n}: " + _join(
            e.items + ([e.text] if e.text else []) + e.unconfirmed_items)
    if p.notes is not None:
        nt = p.notes
        out["notes"] = f"Lưu ý khi {n}: " + _join(nt.items + ([nt.text] if nt.text else []) + nt.unconfirmed_items)
    return out


def procedure_chunks(p: Procedure, *, lines: bool = True) -> List[Chunk]:
    """All chunks of one procedure: the section chunks, then one per distinct name/alias line when ``lines``.

    Example questions stay inside the general chunk only: as separate lines they match the question's form
    ("... cần giấy tờ gì") more than its topic, which measurably hurt the dense ranking.
    """
    chunks = [Chunk(f"{p.key}#{kind}", p.key, kind, text) for kind, text in section_texts(p).items()]
    if lines:
        seen = set()
        for i, value in enumerate([p.name] + p.aliases):
            norm = " ".join(value.lower().split())
            if norm in seen:
                continue
            seen.add(norm)
            chunks.append(Chunk(f"{p.key}#alias{i}", p.key, "alias", value.strip()))
    return chunks


def build_chunks(procedures: Dict[str, Procedure], *, lines: bool = True) -> List[Chunk]:
    """Chunks of every procedure, in key order."""
    out: List[Chunk] = []
    for key in sorted(procedures):
        out.extend(procedure_chunks(procedures[key], lines=lines))
    return out
