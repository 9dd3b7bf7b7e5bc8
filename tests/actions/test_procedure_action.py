"""action_answer_procedure on the real knowledge base and embedding model: exact events, honest messages."""
from __future__ import annotations

import json

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge_client as kc
from actions.procedure import ActionAnswerProcedure
from tests.actions.helpers import entity, make_tracker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def loaded_search():
    """Load the index and model once for this module."""
    assert kc.warm_up() is not None, "knowledge search could not be loaded"


@pytest.fixture(autouse=True)
def app_db(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("APP_DB_PATH", str(tmp_path / "app.sqlite"))


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
                      SlotSet("fallback_count", 0.0)]
    assert len(messages) == 1
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
