"""Procedure questions answered from the knowledge search, with the conversation's context.

After "làm giấy khai sinh cần gì", a follow-up like "thế lệ phí bao nhiêu?" stays on birth registration; naming
another procedure replaces it; a vague question gets a clarifying question with the likely procedures as buttons;
a question the knowledge base cannot answer gets an honest decline.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client as kc
from actions import unanswered
from nlu.textnorm import canonical_words

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


def payload(intent: str, **entities: str) -> str:
    """A button payload that triggers ``intent`` with ``entities`` (Rasa's /intent{json} form)."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def _entity_values(tracker: Tracker, name: str) -> List[str]:
    return [str(e.get("value")) for e in tracker.latest_message.get("entities", [])
            if e.get("entity") == name and e.get("value")]


def is_follow_up(text: str, names_procedure: bool) -> bool:
    """True for a short question about an aspect that names no procedure or situation of its own."""
    from knowledge.lexical import content_words

    if names_procedure or len(canonical_words(text)) > FOLLOW_UP_MAX_WORDS:
        return False
    return sum(1 for w in content_words(text) if w not in ASPECT_WORDS) <= 1


def _procedure_title(key: str) -> str:
    from knowledge.offices import get_procedure

    proc = get_procedure(key)
    return proc.name if proc else key


class ActionAnswerProcedure(Action):
    """Answer a procedure question for the aspect asked, keeping the procedure in context."""

    def name(self) -> Text:
        return "action_answer_procedure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        events = await self._run(dispatcher, tracker)
        from actions.appointments.combined import wants_booking

        text = str(tracker.latest_message.get("text") or "")
        if not tracker.active_loop_name and not text.startswith("/") and wants_booking(text):
            return events + [FollowupAction("booking_form")]  # "cần giấy gì, đặt lịch luôn": both, in order
        return events

    async def _run(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        current = tracker.get_slot("procedure_key")
        chosen = next(iter(_entity_values(tracker, "procedure_key")), None)
        asked_aspect = next(iter(_entity_values(tracker, "aspect")), None)

        if chosen:  # a button: the procedure (and maybe the aspect) is explicit
            if not kc.has_procedure(chosen):
                return self._decline(dispatcher, tracker, text, None)
            return self._answer(dispatcher, chosen, asked_aspect or "general")

        if not text or text.startswith("/"):
            return self._ask_which(dispatcher)

        try:
            outcome = await kc.search(text)
        except kc.SearchUnavailable:
            log.exception("knowledge search unavailable")
            dispatcher.utter_message(
                text="Xin lỗi, hệ thống tra cứu thủ tục đang tạm gián đoạn. Anh/chị vui lòng thử lại sau ít phút "
                     f"hoặc xem hướng dẫn trên Cổng Dịch vụ công quốc gia: {PORTAL}")
            return []

        names_procedure = bool(_entity_values(tracker, "procedure")) or outcome.mentions_procedure
        if current and is_follow_up(text, names_procedure):
            return self._answer_many(dispatcher, current, text, outcome.aspect)
        offered = [k for k in tracker.get_slot("procedure_candidates") or [] if kc.has_procedure(k)]
        if offered and not current:  # the citizen answers our "which procedure?" question
            top = outcome.results[0].key if outcome.results else None
            if top in offered:
                return self._answer(dispatcher, top, outcome.aspect) + [SlotSet("procedure_candidates", None)]
            if is_follow_up(text, names_procedure):
                return self._clarify_again(dispatcher, offered, outcome.aspect)
        if outcome.declined and outcome.catalogue is not None:   # the national catalogue, after curated guidance
            return self._catalogue(dispatcher, tracker, text, outcome)
        if outcome.declined:
            return self._decline(dispatcher, tracker, text, outcome)
        if outcome.ambiguous and not names_procedure:
            return self._clarify(dispatcher, outcome)
        return self._answer_many(dispatcher, outcome.results[0].key, text, outcome.aspect)

    def _answer_many(self, dispatcher: CollectingDispatcher, key: str, text: str, aspect: str) -> List[EventType]:
        """Every aspect the message asks ("mất bao lâu, có mất phí không"), in order; the buttons after the last."""
        from actions.procedure_aspects import aspects_in

        aspects = aspects_in(text)
        if len(aspects) < 2:
            return self._answer(dispatcher, key, aspect)
        for one in aspects[:-1]:
            dispatcher.utter_message(text=kc.compose(key, one).text)
        return self._answer(dispatcher, key, aspects[-1])

    def _answer(self, dispatcher: CollectingDispatcher, key: str, aspect: str) -> List[EventType]:
        answer = kc.compose(key, aspect)
        buttons = [{"title": o["title"], "payload": payload("ask_procedure", procedure_key=key, aspect=o["aspect"])}
                   for o in answer.follow_ups]
        if not kc.is_catalogue_key(key):   # our offices take appointments for curated procedures only
            buttons.append({"title": "Đặt lịch nộp hồ sơ", "payload": payload("book_appointment", procedure_key=key)})
        dispatcher.utter_message(text=answer.text, buttons=buttons)
        return [SlotSet("procedure_key", key), SlotSet("aspect", aspect), SlotSet("fallback_count", 0.0)]

    def _catalogue(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
                   outcome: "kc.SearchOutcome") -> List[EventType]:
        """Answer from the national catalogue (unreviewed), or ask which of its close records is meant."""
        found = outcome.catalogue
        # officers see what the curated guidance lacks (and may promote the entry to curated guidance)
        unanswered.record_later(tracker.sender_id, text, "catalogue")
        if not found.ambiguous:
            return self._answer(dispatcher, found.key, outcome.aspect)
        lines = "\n".join(f"{i}. {r.name}" for i, r in enumerate(found.candidates, 1))
        dispatcher.utter_message(
            text="Dạ, trong Cơ sở dữ liệu quốc gia về thủ tục hành chính có mấy thủ tục gần với câu hỏi của "
                 f"anh/chị (chưa được cán bộ kiểm tra lại). Anh/chị đang hỏi về thủ tục nào ạ?\n{lines}",
            buttons=[{"title": f"Thủ tục số {i}", "payload": payload("ask_procedure", procedure_key=r.key,
                                                                          aspect=outcome.aspect)}
                     for i, r in enumerate(found.candidates, 1)] + [{"title": "Gặp cán bộ",
                                                                      "payload": "/human_handoff"}])
        return [SlotSet("fallback_count", 0.0)]

    def _clarify_again(self, dispatcher: CollectingDispatcher, keys: List[str], aspect: str) -> List[EventType]:
        """A bare "cần giấy gì" after our clarifying question: ask again which procedure, for that aspect."""
        dispatcher.utter_message(
            text="Để trả lời đúng, anh/chị cho tôi biết là thủ tục nào trong các thủ tục dưới đây ạ?",
            buttons=[{"title": _procedure_title(k), "payload": payload("ask_procedure", procedure_key=k, aspect=aspect)}
                     for k in keys[:4]])
        return [SlotSet("fallback_count", 0.0)]

    def _clarify(self, dispatcher: CollectingDispatcher, outcome: "kc.SearchOutcome") -> List[EventType]:
        candidates = outcome.results[:4]
        dispatcher.utter_message(
            text="Anh/chị đang hỏi về thủ tục nào ạ?",
            buttons=[{"title": r.name, "payload": payload("ask_procedure", procedure_key=r.key, aspect=outcome.aspect)}
                     for r in candidates],
        )
        return [SlotSet("fallback_count", 0.0), SlotSet("procedure_candidates", [r.key for r in candidates])]

    def _ask_which(self, dispatcher: CollectingDispatcher) -> List[EventType]:
        dispatcher.utter_message(
            text="Anh/chị muốn hỏi về thủ tục nào ạ? Ví dụ: \"làm giấy khai sinh cần giấy tờ gì\", "
                 "\"đăng ký tạm trú mất bao lâu\", \"lý lịch tư pháp lệ phí bao nhiêu\".")
        return []

    def _decline(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str,
                 outcome: Optional["kc.SearchOutcome"]) -> List[EventType]:
        unanswered.record_later(tracker.sender_id, text, "declined")
        closest = [r for r in (outcome.results if outcome else []) if r.plausible]
        aspect = outcome.aspect if outcome else "general"
        buttons = [{"title": r.name, "payload": payload("ask_procedure", procedure_key=r.key, aspect=aspect)}
                   for r in closest]
        buttons.append({"title": "Gặp cán bộ", "payload": "/human_handoff"})
        dispatcher.utter_message(text=decline_text(outcome.decline_kind if outcome else "", closest),
                                 buttons=buttons)
        # procedures offered as a question are remembered (a bare "cần giấy gì" next is read against them); a
        # look-alike is not a question, and "hỏi ở đâu" after it must not be taken for a choice among them
        offered = closest and (outcome.decline_kind if outcome else "") != "lookalike"
        return [SlotSet("fallback_count", 0.0)] + ([SlotSet("procedure_candidates", [r.key for r in closest])]
                                                   if offered else [])


def decline_text(kind: str, closest: List["kc.Result"]) -> str:
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
