"""A procedure question answered from the knowledge search, with the conversation's context - without Rasa.

After "làm giấy khai sinh cần gì", a follow-up like "thế lệ phí bao nhiêu?" stays on birth registration; naming
another procedure replaces it; a vague question gets a clarifying question with the likely procedures as buttons;
a question the knowledge base cannot answer gets an honest decline. The Rasa action (actions.procedure) turns a
``Reply`` into messages and slot events; the staff console's "try the bot" page shows the same reply.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from knowledge import client as kc
from knowledge.aspects import aspects_in
from vntext.textnorm import canonical_words

log = logging.getLogger(__name__)

PORTAL = "https://dichvucong.gov.vn"
# A follow-up is short; longer messages describe a new situation and are searched on their own.
FOLLOW_UP_MAX_WORDS = 12
# Words that ask about an aspect without naming anything ("thế lệ phí bao nhiêu", "nộp online được không").
# A short question made only of these (plus stop words) is about the procedure already in context.
ASPECT_WORDS = frozenset("""
    le phi tien mat lau ngay bao nhieu gio thoi gian nop o dau cho noi nao online truc tuyen mang qua vneid
    dich vu cong giay to ho so can gi mang theo buoc cac thu tuc quy trinh nhu the nao lam sao dieu kien ai
    duoc khong con thi sao neu nhan ket qua mien phi giam lam the ban chinh sao photo chung thuc mau don to khai
    uy quyen nguoi than di thay ho ket qua tra buu dien buu chinh
""".split())
HANDOFF_BUTTON = {"title": "Gặp cán bộ", "payload": "/human_handoff"}


@dataclass
class Question:
    """One citizen message about a procedure, with what the conversation already knows."""

    text: str
    current: Optional[str] = None            # the procedure in context (slot procedure_key)
    chosen: Optional[str] = None             # a procedure key from a button
    asked_aspect: Optional[str] = None       # an aspect from a button
    names_procedure: bool = False            # NLU found a procedure name in the message
    offered: List[str] = field(default_factory=list)   # procedures we asked the citizen to choose from


@dataclass
class Reply:
    """What to say (texts with buttons), the context to keep, and whether officers should see the question."""

    messages: List[Dict[str, Any]] = field(default_factory=list)
    slots: List[Tuple[str, Any]] = field(default_factory=list)   # in the order the events are emitted
    unanswered: Optional[str] = None          # "declined" / "catalogue": record the question for officers
    outcome: Optional[kc.SearchOutcome] = None

    def say(self, text: str, buttons: Optional[List[Dict[str, str]]] = None) -> None:
        """Add one message."""
        self.messages.append({"text": text, "buttons": buttons} if buttons is not None else {"text": text})


def payload(intent: str, **entities: str) -> str:
    """A button payload that triggers ``intent`` with ``entities`` (Rasa's /intent{json} form)."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def is_follow_up(text: str, names_procedure: bool) -> bool:
    """True for a short question about an aspect that names no procedure or situation of its own."""
    from knowledge.lexical import content_words

    if names_procedure or len(canonical_words(text)) > FOLLOW_UP_MAX_WORDS:
        return False
    return sum(1 for w in content_words(text) if w not in ASPECT_WORDS) <= 1


async def answer(q: Question) -> Reply:
    """The reply to ``q`` (searches the knowledge base off the event loop)."""
    reply = Reply()
    text = q.text.strip()
    if q.chosen:  # a button: the procedure (and maybe the aspect) is explicit
        if not kc.has_procedure(q.chosen):
            return _decline(reply, None)
        return _answer(reply, q.chosen, q.asked_aspect or "general")
    if not text or text.startswith("/"):
        reply.say("Anh/chị muốn hỏi về thủ tục nào ạ? Ví dụ: \"làm giấy khai sinh cần giấy tờ gì\", "
                  "\"đăng ký tạm trú mất bao lâu\", \"lý lịch tư pháp lệ phí bao nhiêu\".")
        return reply
    try:
        outcome = await kc.search(text)
    except kc.SearchUnavailable:
        log.exception("knowledge search unavailable")
        reply.say("Xin lỗi, hệ thống tra cứu thủ tục đang tạm gián đoạn. Anh/chị vui lòng thử lại sau ít phút "
                  f"hoặc xem hướng dẫn trên Cổng Dịch vụ công quốc gia: {PORTAL}")
        return reply
    reply.outcome = outcome
    names_procedure = q.names_procedure or outcome.mentions_procedure
    if q.current and is_follow_up(text, names_procedure):
        return _answer_many(reply, q.current, text, outcome.aspect)
    offered = [k for k in q.offered if kc.has_procedure(k)]
    if offered and not q.current:  # the citizen answers our "which procedure?" question
        top = outcome.results[0].key if outcome.results else None
        if top in offered:
            _answer(reply, top, outcome.aspect)
            reply.slots.append(("procedure_candidates", None))
            return reply
        if is_follow_up(text, names_procedure):
            return _clarify_again(reply, offered, outcome.aspect)
    if outcome.declined and outcome.catalogue is not None:   # the national catalogue, after curated guidance
        return _catalogue(reply, outcome)
    if outcome.declined:
        return _decline(reply, outcome)
    if outcome.ambiguous and not names_procedure:
        return _clarify(reply, outcome)
    return _answer_many(reply, outcome.results[0].key, text, outcome.aspect)


def _answer_many(reply: Reply, key: str, text: str, aspect: str) -> Reply:
    """Every aspect the message asks ("mất bao lâu, có mất phí không"), in order; the buttons after the last."""
    aspects = aspects_in(text)
    if len(aspects) < 2:
        return _answer(reply, key, aspect)
    for one in aspects[:-1]:
        reply.say(kc.compose(key, one).text)
    return _answer(reply, key, aspects[-1])


def _answer(reply: Reply, key: str, aspect: str) -> Reply:
    composed = kc.compose(key, aspect)
    buttons = [{"title": o["title"], "payload": payload("ask_procedure", procedure_key=key, aspect=o["aspect"])}
               for o in composed.follow_ups]
    if not kc.is_catalogue_key(key):   # our offices take appointments for curated procedures only
        buttons.append({"title": "Đặt lịch nộp hồ sơ", "payload": payload("book_appointment", procedure_key=key)})
    reply.say(composed.text, buttons)
    reply.slots += [("procedure_key", key), ("aspect", aspect), ("fallback_count", 0.0)]
    return reply


def _catalogue(reply: Reply, outcome: kc.SearchOutcome) -> Reply:
    """Answer from the national catalogue (unreviewed), or ask which of its close records is meant."""
    found = outcome.catalogue
    # officers see what the curated guidance lacks (and may promote the entry to curated guidance)
    reply.unanswered = "catalogue"
    if not found.ambiguous:
        return _answer(reply, found.key, outcome.aspect)
    lines = "\n".join(f"{i}. {r.name}" for i, r in enumerate(found.candidates, 1))
    reply.say("Dạ, trong Cơ sở dữ liệu quốc gia về thủ tục hành chính có mấy thủ tục gần với câu hỏi của "
              f"anh/chị (chưa được cán bộ kiểm tra lại). Anh/chị đang hỏi về thủ tục nào ạ?\n{lines}",
              [{"title": f"Thủ tục số {i}", "payload": payload("ask_procedure", procedure_key=r.key,
                                                               aspect=outcome.aspect)}
               for i, r in enumerate(found.candidates, 1)] + [dict(HANDOFF_BUTTON)])
    reply.slots.append(("fallback_count", 0.0))
    return reply


def _clarify_again(reply: Reply, keys: List[str], aspect: str) -> Reply:
    """A bare "cần giấy gì" after our clarifying question: ask again which procedure, for that aspect."""
    reply.say("Để trả lời đúng, anh/chị cho tôi biết là thủ tục nào trong các thủ tục dưới đây ạ?",
              [{"title": kc.procedure_name(k), "payload": payload("ask_procedure", procedure_key=k, aspect=aspect)}
               for k in keys[:4]])
    reply.slots.append(("fallback_count", 0.0))
    return reply


def _clarify(reply: Reply, outcome: kc.SearchOutcome) -> Reply:
    candidates = outcome.results[:4]
    reply.say("Anh/chị đang hỏi về thủ tục nào ạ?",
              [{"title": r.name, "payload": payload("ask_procedure", procedure_key=r.key, aspect=outcome.aspect)}
               for r in candidates])
    reply.slots += [("fallback_count", 0.0), ("procedure_candidates", [r.key for r in candidates])]
    return reply


def _decline(reply: Reply, outcome: Optional[kc.SearchOutcome]) -> Reply:
    reply.unanswered = "declined"
    closest = [r for r in (outcome.results if outcome else []) if r.plausible]
    aspect = outcome.aspect if outcome else "general"
    buttons = [{"title": r.name, "payload": payload("ask_procedure", procedure_key=r.key, aspect=aspect)}
               for r in closest]
    buttons.append(dict(HANDOFF_BUTTON))
    kind = outcome.decline_kind if outcome else ""
    reply.say(decline_text(kind, closest), buttons)
    reply.slots.append(("fallback_count", 0.0))
    # procedures offered as a question are remembered (a bare "cần giấy gì" next is read against them); a
    # look-alike is not a question, and "hỏi ở đâu" after it must not be taken for a choice among them
    if closest and kind != "lookalike":
        reply.slots.append(("procedure_candidates", [r.key for r in closest]))
    return reply


def decline_text(kind: str, closest: List[kc.Result]) -> str:
    """The reply when the knowledge base does not answer: what the bot can do instead (the procedures it knows
    that the citizen may have meant, the national portal, an officer), never a guess."""
    portal = f"tra cứu trên Cổng Dịch vụ công quốc gia ({PORTAL}) hoặc bấm \"Gặp cán bộ\" để được hỗ trợ"
    if closest and kind == "lookalike":
        return (f"Dạ, tôi chưa có hướng dẫn cho đúng trường hợp anh/chị hỏi (tôi mới có hướng dẫn thủ tục "
                f"{closest[0].name}) nên không dám trả lời, để tránh hướng dẫn sai. Nếu đúng là thủ tục đó, mời "
                f"anh/chị bấm chọn bên dưới; nếu không, anh/chị có thể {portal}.")
    if closest:  # a vague question: ask which procedure rather than guess
        return ("Anh/chị đang hỏi về thủ tục nào ạ? Mời chọn một thủ tục dưới đây. Nếu không phải, anh/chị có thể "
                f"{portal}.")
    return ("Dạ, tôi chưa có hướng dẫn cho nội dung này nên không dám trả lời, để tránh hướng dẫn sai cho "
            f"anh/chị. Anh/chị có thể {portal}.")
