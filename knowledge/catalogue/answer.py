"""Citizen-facing answers from a catalogue record: short Vietnamese text per aspect, labelled as unreviewed.

Only parsed fields are said. What could not be parsed (a fee without its amount, a time without its unit, an empty
field) is said to be missing, with the record's official link and the competent agency to ask: nothing is guessed.
"""
from __future__ import annotations

import re
from typing import Dict, List, Sequence

from ..compose import ASPECT_TITLES, MAX_CHARS, NATIONAL_PORTAL, Answer, _fit, followup_payload
from .parse import Record, Way
from .search import CatalogueHit
from .tiers import CATALOGUE_KEY_PREFIX

SOURCE = "Cơ sở dữ liệu quốc gia về thủ tục hành chính"
FOLLOWUPS = ("documents", "fee", "time", "place", "steps", "online", "eligibility", "general")
WAY_WORDS = {"Trực tiếp": "Nộp trực tiếp", "Trực tuyến": "Nộp trực tuyến", "Dịch vụ bưu chính": "Qua bưu chính"}
DOC_CHARS = 170      # a paper's name is cut here (the portal's names can run to several sentences)
TEXT_CHARS = 600     # steps and conditions are cut here; the link has the rest


def caution(rec: Record) -> str:
    """The sentence every catalogue answer carries."""
    who = rec.agency or "cơ quan giải quyết"
    return (f"Thông tin được lấy tự động từ {SOURCE}, chưa được cán bộ kiểm tra lại; anh/chị vui lòng đối chiếu "
            f"tại đường dẫn dưới đây hoặc hỏi {who}.")


def money(text: str) -> str:
    """"50,000 Việt Nam Đồng" -> "50.000 đồng" (the portal writes thousands with commas)."""
    text = re.sub(r"\b(\d{1,3}(?:,\d{3})+)\b", lambda m: m.group(1).replace(",", "."), text)
    return re.sub(r"\s*(?:Việt Nam Đồng|VNĐ|VND)\b", " đồng", text).strip()


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "..."


def _missing(what: str, rec: Record) -> str:
    # the closing caution already gives the link and the agency to ask
    return f"Cơ sở dữ liệu chưa ghi rõ {what} của thủ tục này (hoặc hệ thống chưa đọc được)."


def _way_line(w: Way, with_time: bool, with_fee: bool) -> str:
    parts = []
    if with_time:
        parts.append(f"thời hạn {w.time}" if w.time else "thời hạn chưa rõ")
    if with_fee:
        fee = money(w.fee) if w.fee else "lệ phí chưa rõ"
        if w.fee_note:
            fee += f" ({_cut(money(w.fee_note), 160)})"
        elif w.description and "phí" in w.description.lower():
            # "Miễn phí" in the fee column, while the description says who sets the fee: say both
            fee += f" (ghi chú: {_cut(money(w.description.strip('()')), 160)})"
        parts.append(fee)
    return f"- {WAY_WORDS.get(w.way, w.way)}: " + "; ".join(parts)


def _general(rec: Record) -> List[str]:
    lines = []
    if rec.levels:
        lines.append("Cấp thực hiện: " + ", ".join(rec.levels) + ".")
    lines.append(f"Cơ quan có thẩm quyền: {rec.agency}." if rec.agency
                 else "Cơ quan giải quyết: cơ sở dữ liệu chưa ghi, anh/chị xem tại đường dẫn dưới đây.")
    if rec.field:
        lines.append(f"Lĩnh vực: {rec.field}.")
    if rec.ways:
        lines.append("Cách nộp, thời hạn và lệ phí:")
        lines += _ways(rec, True, True)
    if rec.documents:
        lines.append(f"Hồ sơ gồm {len(rec.documents)} loại giấy tờ (chọn \"Giấy tờ cần chuẩn bị\" để xem).")
    return lines


def _documents(rec: Record) -> List[str]:
    if not rec.documents:
        return [_missing("thành phần hồ sơ", rec)]
    lines: List[str] = []
    group = None
    for d in rec.documents:
        if d.group and d.group != group:
            lines.append(_cut(d.group.rstrip(":") + ":", 120))
        group = d.group
        count = ", ".join(c.strip() for c in d.count.split(",") if c.strip() and not c.strip().startswith("0 "))
        lines.append(f"- {_cut(d.name, DOC_CHARS)}" + (f" ({count})" if count else ""))
    return lines


def _ways(rec: Record, with_time: bool, with_fee: bool) -> List[str]:
    """One line per way; a single line when every way says the same (the portal repeats rows per case)."""
    lines = list(dict.fromkeys(_way_line(w, with_time, with_fee) for w in rec.ways))
    tails = {line.split(": ", 1)[1] for line in lines}
    if len(lines) > 1 and len(tails) == 1:
        ways = ", ".join(dict.fromkeys(WAY_WORDS.get(w.way, w.way).lower() for w in rec.ways))
        return [f"- Mọi hình thức ({ways}): {tails.pop()}"]
    return lines


def _fee(rec: Record) -> List[str]:
    if not any(w.fee for w in rec.ways):
        return [_missing("lệ phí", rec)]
    return _ways(rec, False, True)


def _time(rec: Record) -> List[str]:
    if not any(w.time for w in rec.ways):
        return [_missing("thời hạn giải quyết", rec)]
    return _ways(rec, True, False)


def _place(rec: Record) -> List[str]:
    lines = []
    if rec.agency:
        lines.append(f"Cơ quan có thẩm quyền: {rec.agency}.")
    if rec.executing_agency and rec.executing_agency != rec.agency:
        lines.append(f"Cơ quan thực hiện: {rec.executing_agency}.")
    if rec.address:
        lines.append(f"Địa chỉ tiếp nhận: {_cut(rec.address, 300)}")
    if rec.ways:
        lines.append("Hình thức nộp: " + ", ".join(dict.fromkeys(WAY_WORDS.get(w.way, w.way).lower()
                                                             for w in rec.ways)) + ".")
    return lines or [_missing("nơi nộp hồ sơ", rec)]


def _online(rec: Record) -> List[str]:
    if not rec.ways:
        return [_missing("hình thức nộp", rec)]
    online = [w for w in rec.ways if w.way == "Trực tuyến"]
    if online:
        return ["Theo cơ sở dữ liệu, thủ tục này có thể nộp trực tuyến (Cổng Dịch vụ công quốc gia "
                f"{NATIONAL_PORTAL})."] + list(dict.fromkeys(_way_line(w, True, True) for w in online))
    return ["Theo cơ sở dữ liệu, thủ tục này chưa có hình thức nộp trực tuyến; các hình thức nộp: "
            + ", ".join(dict.fromkeys(WAY_WORDS.get(w.way, w.way).lower() for w in rec.ways)) + "."]


def _steps(rec: Record) -> List[str]:
    return [_cut(rec.steps, TEXT_CHARS)] if rec.steps else [_missing("trình tự thực hiện", rec)]


def _eligibility(rec: Record) -> List[str]:
    lines = []
    if rec.audience:
        lines.append(f"Đối tượng thực hiện: {rec.audience}.")
    if rec.conditions:
        lines.append("Yêu cầu, điều kiện: " + _cut(rec.conditions, TEXT_CHARS))
    return lines or [_missing("điều kiện, đối tượng", rec)]


_BUILDERS = {"general": _general, "documents": _documents, "fee": _fee, "time": _time, "place": _place,
             "online": _online, "steps": _steps, "eligibility": _eligibility}


def catalogue_key(rec: Record) -> str:
    """The procedure key a catalogue record goes by in slots and buttons."""
    return CATALOGUE_KEY_PREFIX + rec.id


def followups(rec: Record, current: str) -> List[Dict[str, str]]:
    """Buttons for the record's other aspects."""
    return [{"title": ASPECT_TITLES[a], "payload": followup_payload(catalogue_key(rec), a)}
            for a in FOLLOWUPS if a != current]


def compose_record(rec: Record, aspect: str = "general", limit: int = MAX_CHARS) -> Answer:
    """The answer to ``aspect`` of a catalogue record, at most ``limit`` characters, labelled and linked."""
    aspect = aspect if aspect in _BUILDERS else "general"
    link = rec.url or NATIONAL_PORTAL
    name = re.sub(r"^Thủ tục\s+", "", rec.name)
    head = (f"Dạ, theo {SOURCE}, thủ tục \"{_cut(name, 200)}\" (mã {rec.code or 'chưa rõ'}) - "
            f"{ASPECT_TITLES[aspect].lower()}:")
    tail = caution(rec) + f"\nXem đầy đủ: {link}"
    text = _fit(head, _BUILDERS[aspect](rec), tail, limit)
    return Answer(text=text, key=catalogue_key(rec), aspect=aspect, followups=followups(rec, aspect),
                  has_unconfirmed=True)


def compose_which(hits: Sequence[CatalogueHit], aspect: str, limit: int = MAX_CHARS) -> Answer:
    """"Which of these procedures?" when several catalogue records fit the question about equally."""
    lines = [f"{i}. {_cut(h.name, 160)} (mã {h.code})" for i, h in enumerate(hits, 1)]
    head = (f"Dạ, trong {SOURCE} có {len(hits)} thủ tục gần với câu hỏi của anh/chị. Anh/chị đang hỏi về thủ tục "
            "nào ạ?")
    tail = "Các thủ tục này chưa được cán bộ kiểm tra lại. Nếu không phải, anh/chị có thể hỏi cán bộ một cửa."
    buttons = [{"title": f"Thủ tục số {i}", "payload": followup_payload(CATALOGUE_KEY_PREFIX + h.id,
                                                                                   aspect)}
               for i, h in enumerate(hits, 1)]
    return Answer(text=_fit(head, lines, tail, limit), key=None, aspect=aspect, followups=buttons,
                  has_unconfirmed=True)
