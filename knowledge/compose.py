"""Turn (procedure, aspect) into a short, polite Vietnamese answer for a phone screen, plus follow-up options.

Plain text only (no markdown or HTML: the connectors send it to Zalo and Messenger as is). Every answer names the
procedure and its official link. Unconfirmed facts are never stated as certain, and nothing is added that the
knowledge base does not hold: a missing section says so and points to the official link.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .chunks import OFFICE_WORDS, PORTAL_WORDS
from .schema import Procedure, Section

MAX_CHARS = 1500
ASPECT_TITLES: Dict[str, str] = {
    "general": "Thông tin chung",
    "documents": "Giấy tờ cần chuẩn bị",
    "fee": "Lệ phí",
    "time": "Thời gian giải quyết",
    "place": "Nơi nộp hồ sơ",
    "steps": "Các bước thực hiện",
    "online": "Làm trực tuyến",
    "eligibility": "Điều kiện, đối tượng",
}
FOLLOWUP_ORDER = ("documents", "fee", "time", "place", "steps", "online", "eligibility", "general")
ONLINE_LEVELS = {
    "full": "Có thể làm trực tuyến toàn trình (không phải đến nộp giấy tờ).",
    "partial": "Có thể nộp trực tuyến một phần (vẫn có bước phải làm trực tiếp).",
    "none": "Thủ tục này chưa làm trực tuyến được.",
    "unknown": "",
}
NATIONAL_PORTAL = "https://dichvucong.gov.vn"
SUGGEST_MIN_ALIAS = 0.3


def caution(link: str) -> str:
    """The sentence that accompanies every unconfirmed fact."""
    return f"Thông tin này chưa được cán bộ xác nhận, anh/chị vui lòng kiểm tra tại {link}."


@dataclass
class Answer:
    """A composed answer and the buttons to offer after it."""

    text: str
    key: Optional[str]
    aspect: str
    followups: List[Dict[str, str]] = field(default_factory=list)
    has_unconfirmed: bool = False


def short_title(text: str, limit: int = 20) -> str:
    """A button title within ``limit`` characters (Messenger quick replies allow 20), cut at a word."""
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0] + "…"


def followup_payload(key: str, aspect: str) -> str:
    """The Rasa payload a follow-up button sends (intent ask_procedure with procedure_key and aspect)."""
    return "/ask_procedure" + json.dumps({"procedure_key": key, "aspect": aspect}, ensure_ascii=False)


def followups(proc: Procedure, current: str) -> List[Dict[str, str]]:
    """Buttons for the other aspects of the same procedure (eligibility only when the KB has it)."""
    out = []
    for aspect in FOLLOWUP_ORDER:
        if aspect == current or (aspect == "eligibility" and proc.eligibility is None):
            continue
        out.append({"title": ASPECT_TITLES[aspect], "payload": followup_payload(proc.key, aspect)})
    return out


class _Body:
    """Collects answer lines, remembering whether anything unconfirmed was said."""

    def __init__(self, link: str):
        self.link = link
        self.lines: List[str] = []
        self.unconfirmed = False

    def add(self, text: str) -> None:
        text = (text or "").strip()
        if text:
            self.lines.append(text)

    def section(self, sec: Section, lines: Sequence[str], *, missing: str) -> None:
        """Lines of a section, with the caution when the section is unconfirmed and its unconfirmed items."""
        lines = [x for x in lines if x and x.strip()]
        if not lines and not sec.unconfirmed_items:
            self.add(missing)
            return
        for line in lines:
            self.add(line)
        if lines and sec.status == "unconfirmed":
            self.unconfirmed = True
            self.add(caution(self.link))
        if sec.unconfirmed_items:
            self.unconfirmed = True
            self.add("Chưa được cán bộ xác nhận: " + "; ".join(i.rstrip(".") for i in sec.unconfirmed_items) + ".")
            if sec.status != "unconfirmed" or not lines:
                self.add(caution(self.link))


def _bullets(items: Sequence[str]) -> List[str]:
    return [f"- {i.strip()}" for i in items if i and i.strip()]


def _missing(what: str, link: str) -> str:
    return (f"Hiện hệ thống chưa có thông tin về {what} của thủ tục này. "
            f"Anh/chị vui lòng xem tại {link} hoặc hỏi bộ phận một cửa.")


def _documents(p: Procedure, b: _Body, notes: bool = True) -> None:
    sec = p.documents
    lines = [sec.text] if sec.text else []
    flagged = False
    for i, d in enumerate(sec.documents):
        if i == 0:
            lines.append("Hồ sơ gồm:")
        line = "- " + d.line(notes=notes)
        if d.status == "unconfirmed" and sec.status != "unconfirmed":
            line += " (chưa được cán bộ xác nhận)"
            flagged = True
        lines.append(line)
    b.section(sec, lines, missing=_missing("giấy tờ cần chuẩn bị", b.link))
    if flagged:
        b.unconfirmed = True
        b.add(caution(b.link))


def _fee(p: Procedure, b: _Body) -> None:
    sec = p.fees
    lines = [sec.text] if sec.text else []
    exemptions = sec.extra.get("exemptions") or []
    if exemptions:
        lines.append("Được miễn: " + "; ".join(e.rstrip(".") for e in exemptions) + ".")
    b.section(sec, lines, missing=_missing("lệ phí", b.link))


def _time(p: Procedure, b: _Body) -> None:
    sec = p.processing_time
    lines = [sec.text] if sec.text else []
    if sec.extra.get("deadline_for_citizen"):
        lines.append(f"Thời hạn anh/chị cần đi làm: {sec.extra['deadline_for_citizen']}.")
    b.section(sec, lines, missing=_missing("thời gian giải quyết", b.link))


def _place(p: Procedure, b: _Body) -> None:
    sec = p.submit
    lines = []
    if sec.extra.get("in_person"):
        lines.append("Nộp trực tiếp: " + sec.extra["in_person"])
    if sec.text:
        lines.append(sec.text)
    offices = [OFFICE_WORDS.get(o, o) for o in sec.extra.get("offices", []) if o != "other"]
    if offices and not lines:
        lines.append("Nơi tiếp nhận: " + ", ".join(offices) + ".")
    if sec.extra.get("postal") == "yes":
        lines.append("Có thể gửi hồ sơ hoặc nhận kết quả qua bưu chính.")
    if lines and p.agency and sec.status != "unconfirmed":
        lines.append(f"Cơ quan giải quyết: {p.agency}.")
    b.section(sec, lines, missing=_missing("nơi nộp hồ sơ", b.link))


def _steps(p: Procedure, b: _Body) -> None:
    sec = p.steps
    lines = [f"{i}. {s}" for i, s in enumerate(sec.items, 1)]
    if sec.text:
        lines.append(sec.text)
    b.section(sec, lines, missing=_missing("các bước thực hiện", b.link))


def _online(p: Procedure, b: _Body) -> None:
    sec = p.online
    lines = []
    if sec.text:
        lines.append(sec.text)
    level = ONLINE_LEVELS.get(sec.extra.get("level", "unknown"), "")
    if level:
        lines.append(level)
    portals = [PORTAL_WORDS.get(x, x) for x in sec.extra.get("portals", [])]
    if portals and not sec.text:
        lines.append("Nơi nộp trực tuyến: " + ", ".join(portals) + ".")
    b.section(sec, lines, missing=_missing("việc làm trực tuyến", b.link))


def _eligibility(p: Procedure, b: _Body) -> None:
    sec = p.eligibility
    if sec is None:
        b.add(_missing("điều kiện, đối tượng", b.link))
        return
    lines = _bullets(sec.items) + ([sec.text] if sec.text else [])
    b.section(sec, lines, missing=_missing("điều kiện, đối tượng", b.link))


def _first_sentence(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    for stop in (". ", "; "):
        if stop in text[:limit]:
            return text[:text.index(stop, 0, limit) + 1].rstrip(";") + ("" if stop == ". " else ".")
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "..."


def _general(p: Procedure, b: _Body) -> None:
    b.add(f"Cơ quan giải quyết: {p.agency} ({p.level}).")
    facts = [("Nơi nộp", p.submit, p.submit.extra.get("in_person") or p.submit.text),
             ("Thời gian", p.processing_time, p.processing_time.text),
             ("Lệ phí", p.fees, p.fees.text)]
    unconfirmed = False
    for label, sec, text in facts:
        if not text:
            continue
        mark = "" if sec.confirmed else " (chưa được cán bộ xác nhận)"
        unconfirmed |= not sec.confirmed
        b.add(f"{label}: {_first_sentence(text)}{mark}")
    if p.notes is not None and p.notes.items and p.notes.confirmed:
        b.add("Lưu ý: " + _first_sentence(p.notes.items[0]))
    if unconfirmed:
        b.unconfirmed = True
        b.add(caution(b.link))


_BUILDERS = {"documents": _documents, "fee": _fee, "time": _time, "place": _place, "steps": _steps,
             "online": _online, "eligibility": _eligibility, "general": _general}


def _fit(head: str, lines: List[str], tail: str, limit: int) -> str:
    """Join head, body lines and tail within ``limit`` characters, cutting body lines (never head or tail)."""
    more = "(Còn thêm, anh/chị xem đầy đủ tại đường dẫn bên dưới.)"
    kept: List[str] = []
    budget = limit - len(head) - len(tail) - 2
    for i, line in enumerate(lines):
        reserve = len(more) + 1 if i < len(lines) - 1 else 0
        if len(line) + 1 + reserve <= budget:
            kept.append(line)
            budget -= len(line) + 1
            continue
        room = budget - len(more) - 2
        if room > 60:
            kept.append(line[:room].rsplit(" ", 1)[0] + "...")
        kept.append(more)
        break
    return "\n".join([head] + kept + [tail])


def compose(proc: Procedure, aspect: str = "general", limit: int = MAX_CHARS) -> Answer:
    """The answer to ``aspect`` of ``proc``: at most ``limit`` characters, naming the procedure and its link."""
    aspect = aspect if aspect in _BUILDERS else "general"
    link = proc.official_link or NATIONAL_PORTAL
    body = _Body(link)
    _BUILDERS[aspect](proc, body)
    head = f"Dạ, về thủ tục {proc.name} - {ASPECT_TITLES[aspect].lower()}:"
    tail = f"Văn bản chính thức: {link}"
    text = _fit(head, body.lines, tail, limit)
    if aspect == "documents" and len("\n".join([head] + body.lines + [tail])) > limit:
        body = _Body(link)  # too long with the notes of every paper: list the papers only
        _documents(proc, body, notes=False)
        text = _fit(head, body.lines, tail, limit)
    if body.unconfirmed and "chưa được cán bộ xác nhận" not in text:
        # the cut removed the caution sentence: put it back by cutting the body further
        text = _fit(head, body.lines[: max(1, len(body.lines) // 2)] + [caution(link)], tail, limit)
    return Answer(text=text, key=proc.key, aspect=aspect, followups=followups(proc, aspect),
                  has_unconfirmed=body.unconfirmed)


def compose_decline(suggestions: Sequence[Procedure] = (), limit: int = MAX_CHARS) -> Answer:
    """The polite answer when the knowledge base does not cover the question, with a few guesses as buttons."""
    text = ("Dạ, hiện em chưa có hướng dẫn cho nội dung này. Anh/chị có thể tra cứu thủ tục tại "
            f"Cổng Dịch vụ công quốc gia {NATIONAL_PORTAL} hoặc hỏi trực tiếp bộ phận một cửa nơi mình cư trú.")
    buttons = [{"title": short_title(p.name), "payload": followup_payload(p.key, "general")} for p in suggestions[:3]]
    if buttons:
        text += " Nếu anh/chị hỏi về một trong các thủ tục dưới đây, mời chọn để xem hướng dẫn."
    return Answer(text=text[:limit], key=None, aspect="general", followups=buttons)


def respond(result, procedures: Dict[str, Procedure]) -> Answer:
    """The answer for a SearchResult: the composed aspect of the top procedure, or the decline with suggestions."""
    if result.declined or not result.results:
        # suggest procedures only when the question partly names one (not for weather or football)
        # and never for a topic outside the base; for a look-alike only the procedure it resembles
        kind = getattr(result, "decline_kind", "")
        named = result.features.get("alias_match", 0.0) >= SUGGEST_MIN_ALIAS and kind not in ("outside", "empty")
        hits = result.results[:3]
        if kind == "lookalike":  # the procedure it resembles, when the question names it
            hits = result.results[:1] if result.features.get("names_top") else []
        return compose_decline([procedures[h.key] for h in hits if named and h.key in procedures])
    return compose(procedures[result.results[0].key], result.aspect)
