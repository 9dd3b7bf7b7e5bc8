"""A draft curated procedure pre-filled from a catalogue record, every section marked unconfirmed.

Officers promote a national record to curated guidance from the console: the draft carries only what was parsed
(nothing invented; an unparsed section says so and what to check), then goes through the usual edit, validation and
publish flow. Sections stay "unconfirmed" until an officer checks them against the official page.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List

from vntext.textnorm import fold

from .parse import Record

WAY_WORDS = {"Trực tiếp": "Nộp trực tiếp", "Trực tuyến": "Nộp trực tuyến", "Dịch vụ bưu chính": "Qua bưu chính"}


def draft_key(rec: Record) -> str:
    """The curated key of a promoted record: "tthc_" and its code (ascii slug, stable, unique)."""
    return "tthc_" + re.sub(r"[^a-z0-9]+", "_", (rec.code or rec.id).lower()).strip("_")


def _check(what: str, rec: Record) -> str:
    return f"Chưa đọc được {what} từ Cơ sở dữ liệu quốc gia: cán bộ kiểm tra tại {rec.url or 'Cổng Dịch vụ công'}."


def _steps(text: str) -> List[str]:
    parts = [p.strip() for p in re.split(r"\n+|(?=Bước \d+)", text) if p.strip()]
    return parts[:15]


def draft_from_record(rec: Record, today: dt.date) -> Dict[str, Any]:
    """The procedure mapping of a draft made from ``rec`` (validated and saved by the console's usual flow)."""
    name = re.sub(r"^Thủ tục\s+", "", rec.name).strip().rstrip(".")
    name = name[:1].upper() + name[1:]
    aliases = list(dict.fromkeys([name.lower(), fold(name).lower(), f"thủ tục {rec.code}"]))
    times = [f"{WAY_WORDS.get(w.way, w.way)}: {w.time}" for w in rec.ways if w.time]
    fees = [f"{WAY_WORDS.get(w.way, w.way)}: {w.fee}" + (f" ({w.fee_note})" if w.fee_note else "")
            for w in rec.ways if w.fee]
    online = [w for w in rec.ways if w.way == "Trực tuyến"]
    data: Dict[str, Any] = {
        "key": draft_key(rec),
        "name": name,
        "official_name": rec.name,
        "codes": [{"code": rec.code, "status": "unconfirmed"}] if rec.code else [],
        "aliases": aliases,
        "field": rec.field or "Chưa rõ",
        "level": ", ".join(rec.levels) or "Chưa rõ",
        "agency": rec.agency or "Chưa rõ (kiểm tra tại trang của thủ tục)",
        "official_link": rec.url or "https://dichvucong.gov.vn",
        "submit": {"status": "unconfirmed", "offices": ["other"],
                   "in_person": rec.address or rec.executing_agency or rec.agency or _check("nơi nộp", rec),
                   "postal": "yes" if any(w.way == "Dịch vụ bưu chính" for w in rec.ways) else "unknown",
                   "text": ("Hình thức nộp: " + ", ".join(WAY_WORDS.get(w.way, w.way).lower() for w in rec.ways)
                            + ".") if rec.ways else _check("hình thức nộp", rec)},
        "online": {"status": "unconfirmed", "level": "unknown", "portals": ["dichvucong"] if online else [],
                   "text": "Có hình thức nộp trực tuyến theo Cơ sở dữ liệu quốc gia." if online
                   else "Cơ sở dữ liệu quốc gia không ghi hình thức nộp trực tuyến."},
        "documents": {"status": "unconfirmed",
                      "items": [{k: v for k, v in (("name", d.name), ("count", d.count), ("when", d.group)) if v}
                                for d in rec.documents]} if rec.documents
        else {"status": "unconfirmed", "text": _check("thành phần hồ sơ", rec)},
        "steps": {"status": "unconfirmed", "items": _steps(rec.steps)} if rec.steps
        else {"status": "unconfirmed", "text": _check("trình tự thực hiện", rec)},
        "processing_time": {"status": "unconfirmed", "text": "; ".join(times) if times
                            else _check("thời hạn giải quyết", rec)},
        "fees": {"status": "unconfirmed", "text": "; ".join(fees) if fees else _check("lệ phí", rec)},
        "legal_basis": {"status": "unconfirmed", "items": rec.legal_basis} if rec.legal_basis
        else {"status": "unconfirmed", "text": _check("căn cứ pháp lý", rec)},
        "sources": [rec.url] if rec.url else [],
        "updated": today.isoformat(),
    }
    if rec.conditions or rec.audience:
        data["eligibility"] = {"status": "unconfirmed",
                               "items": [x for x in (f"Đối tượng: {rec.audience}" if rec.audience else "",
                                                     rec.conditions[:2000]) if x]}
    return data
