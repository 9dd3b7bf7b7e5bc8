"""action_answer_procedure on the real knowledge base and embedding model: exact events, honest messages."""
from __future__ import annotations

import asyncio
import json

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import client as kc
from actions.procedure import ActionAnswerProcedure
from tests.actions.helpers import entity, make_tracker

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loaded_search", "app_db")]


async def ask(text, slots=None, entities=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="ask_procedure", slots=slots, entities=entities)
    events = await ActionAnswerProcedure().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def payloads(message):
    return [b["payload"] for b in message.get("buttons", [])]


async def test_documents_of_birth_registration():
    events, messages = await ask("làm giấy khai sinh cần những giấy tờ gì")
    assert events == [SlotSet("procedure_key", "khai_sinh"), SlotSet("aspect", "documents"),
                      SlotSet("fallback_count", 0.0), SlotSet("feedback_asked", True),
                      SlotSet("feedback_rated", ["khai_sinh"])]
    assert len(messages) == 2   # the answer, then "was it useful?" (its own short message)
    assert messages[1]["text"] == "Hướng dẫn «Đăng ký khai sinh» có hữu ích với anh/chị không ạ?"
    assert [b["title"] for b in messages[1]["buttons"]] == ["👍 Hữu ích", "👎 Chưa hữu ích"]
    text = messages[0]["text"]
    assert "Đăng ký khai sinh" in text and "https://dichvucong.gov.vn" in text and "Giấy chứng sinh" in text
    assert len(text) <= 1500
    assert '/book_appointment{"procedure_key": "khai_sinh"}' in payloads(messages[0])
    aspects = {json.loads(p[p.index("{"):]).get("aspect") for p in payloads(messages[0]) if p.startswith("/ask")}
    assert "fee" in aspects and "documents" not in aspects


async def test_follow_ups_stay_on_the_procedure_in_context():
    events, messages = await ask("thế lệ phí bao nhiêu?", slots={"procedure_key": "khai_sinh"})
    assert events[:2] == [SlotSet("procedure_key", "khai_sinh"), SlotSet("aspect", "fee")]
    assert "Miễn lệ phí" in messages[0]["text"]
    events, _ = await ask("nộp online được không", slots={"procedure_key": "khai_sinh"})
    assert events[:2] == [SlotSet("procedure_key", "khai_sinh"), SlotSet("aspect", "online")]


async def test_naming_another_procedure_replaces_the_context():
    events, _ = await ask("còn đăng ký tạm trú thì nộp ở đâu", slots={"procedure_key": "khai_sinh"})
    assert events[:2] == [SlotSet("procedure_key", "tam_tru"), SlotSet("aspect", "place")]


async def test_without_diacritics_and_shorthand():
    events, messages = await ask("lam can cuoc het bn tien")
    assert events[0] == SlotSet("procedure_key", "cap_can_cuoc")
    assert events[1] == SlotSet("aspect", "fee")


async def test_uncovered_procedure_is_declined_honestly():
    events, messages = await ask("xin visa đi Mỹ cần giấy tờ gì", slots={"procedure_key": "khai_sinh"})
    assert events == [SlotSet("fallback_count", 0.0)]
    text = messages[0]["text"]
    assert "https://dichvucong.gov.vn" in text
    assert "/human_handoff" in payloads(messages[0])


OUTSIDE_REPLY = ("Dạ, tôi chưa có hướng dẫn cho nội dung này nên không dám trả lời, để tránh hướng dẫn sai cho "
                 "anh/chị. Anh/chị có thể tra cứu trên Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn) hoặc bấm "
                 "\"Gặp cán bộ\" để được hỗ trợ.")

TAX_QUESTION = "Cá nhân có thu nhập từ hai nơi thì tự quyết toán thuế thu nhập cá nhân như thế nào?"


async def test_an_outside_topic_gets_the_portal_and_an_officer_but_no_procedure():
    events, messages = await ask(TAX_QUESTION)
    assert events == [SlotSet("fallback_count", 0.0)]
    assert messages == [dict(messages[0], text=OUTSIDE_REPLY,
                             buttons=[{"title": "Gặp cán bộ", "payload": "/human_handoff"}])]


async def test_a_look_alike_offers_the_procedure_it_resembles():
    events, messages = await ask("đăng ký xe ô tô cho công ty mới mua cần những gì")
    assert events == [SlotSet("fallback_count", 0.0)]
    assert len(messages) == 1
    assert messages[0]["text"] == (
        "Dạ, tôi chưa có hướng dẫn cho đúng trường hợp anh/chị hỏi (tôi mới có hướng dẫn thủ tục Đăng ký xe máy, "
        "cấp biển số) nên không dám trả lời, để tránh hướng dẫn sai. Nếu đúng là thủ tục đó, mời anh/chị bấm chọn "
        "bên dưới; nếu không, anh/chị có thể tra cứu trên Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn) "
        "hoặc bấm \"Gặp cán bộ\" để được hỗ trợ.")
    assert messages[0]["buttons"] == [
        {"title": "Đăng ký xe máy, cấp biển số",
         "payload": '/ask_procedure{"procedure_key": "dang_ky_xe", "aspect": "documents"}'},
        {"title": "Gặp cán bộ", "payload": "/human_handoff"}]


async def test_a_decline_is_kept_for_officers_with_personal_data_masked():
    from onestop.handoffs import unanswered

    await ask("mở tiệm cầm đồ cần giấy phép gì, số em 0912345678")
    await asyncio.gather(*list(unanswered._pending))
    latest = unanswered.recent(1)[0]
    assert latest["reason"] == "declined" and "0912345678" not in latest["text"] and "cầm đồ" in latest["text"]


async def test_a_failing_catalogue_tier_falls_back_to_the_curated_decline(monkeypatch: pytest.MonkeyPatch):
    class Broken:
        def search(self, text):
            raise RuntimeError("catalogue index missing")

    kc.warm_up()
    monkeypatch.setattr(kc, "_catalogue", Broken())
    events, messages = await ask(TAX_QUESTION)
    assert events == [SlotSet("fallback_count", 0.0)] and messages[0]["text"] == OUTSIDE_REPLY


async def test_a_button_names_procedure_and_aspect():
    ents = [entity("procedure_key", "ly_lich_tu_phap"), entity("aspect", "time")]
    events, messages = await ask('/ask_procedure{"procedure_key":"ly_lich_tu_phap","aspect":"time"}', entities=ents)
    assert events[:2] == [SlotSet("procedure_key", "ly_lich_tu_phap"), SlotSet("aspect", "time")]
    assert "10 ngày" in messages[0]["text"]


async def test_unknown_key_from_a_forged_button_is_declined():
    events, messages = await ask("/ask_procedure", entities=[entity("procedure_key", "../../etc/passwd")])
    assert events == [SlotSet("fallback_count", 0.0)]


@pytest.mark.parametrize("text", ["", "😀", "a" * 10000, "làm giấy khai sinh " * 600])
async def test_odd_input_never_crashes(text):
    events, messages = await ask(text)
    assert messages and all(len(m.get("text") or "") <= 1500 for m in messages)
