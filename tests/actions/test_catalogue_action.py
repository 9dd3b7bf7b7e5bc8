"""action_answer_procedure with the national catalogue tier loaded (our fixture records, the real model)."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge import client as kc
from actions.procedure import ActionAnswerProcedure
from knowledge.catalogue.store import import_records, save
from tests.actions.helpers import entity, make_tracker

pytestmark = pytest.mark.usefixtures("app_db")

FIXTURE = Path(__file__).parents[1] / "knowledge" / "fixtures" / "catalogue_sample.jsonl"


@pytest.fixture(scope="module", autouse=True)
def with_catalogue(tmp_path_factory):
    """The knowledge client serving curated guidance plus the fixture catalogue; curated only afterwards."""
    folder = tmp_path_factory.mktemp("catalogue")
    records, report = import_records(FIXTURE)
    save(records, report, folder)
    mp = pytest.MonkeyPatch()
    mp.setenv("KB_CATALOGUE_DIR", str(folder))
    kc.reload()
    assert kc.warm_up() is not None and kc.catalogue() is not None
    yield
    mp.undo()
    kc.reload()


async def ask(text, slots=None, entities=None):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent="ask_procedure", slots=slots, entities=entities)
    events = await ActionAnswerProcedure().run(dispatcher, tracker, {})
    return events, dispatcher.messages


async def test_curated_guidance_still_answers_first():
    events, messages = await ask("làm giấy khai sinh cần những giấy tờ gì")
    assert events[0] == SlotSet("procedure_key", "khai_sinh")
    assert "Cơ sở dữ liệu quốc gia về thủ tục hành chính" not in messages[0]["text"]


async def test_a_catalogue_entry_answers_what_the_curated_guidance_lacks():
    events, messages = await ask("xin giấy phép khai thác cát sỏi lòng sông mất bao lâu")
    assert events == [SlotSet("procedure_key", "cat:1.900013"), SlotSet("aspect", "time"),
                      SlotSet("fallback_count", 0.0), SlotSet("feedback_asked", True),
                      SlotSet("feedback_rated", ["cat:1.900013"])]
    text = messages[0]["text"]
    assert "1.900013" in text and "30 ngày" in text and "chưa được cán bộ kiểm tra" in text
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert not any(p.startswith("/book_appointment") for p in payloads)   # our offices do not take it
    assert any('"cat:1.900013"' in p and '"fee"' in p for p in payloads)


async def test_follow_up_and_button_on_a_catalogue_entry():
    events, messages = await ask("thế lệ phí bao nhiêu", slots={"procedure_key": "cat:1.900013"})
    assert events[:2] == [SlotSet("procedure_key", "cat:1.900013"), SlotSet("aspect", "fee")]
    assert "Miễn phí" in messages[0]["text"]
    events, messages = await ask("/ask_procedure", entities=[entity("procedure_key", "cat:1.900002"),
                                                              entity("aspect", "documents")])
    assert events[0] == SlotSet("procedure_key", "cat:1.900002") and "Đơn đề nghị cấp giấy phép" in messages[0]["text"]


async def test_unknown_catalogue_key_from_a_button_is_declined():
    events, messages = await ask("/ask_procedure", entities=[entity("procedure_key", "cat:9.999999")])
    assert "chưa có hướng dẫn" in messages[0]["text"]


async def test_outside_both_tiers_is_still_declined():
    _, messages = await ask("giá vàng hôm nay bao nhiêu vậy")
    assert "Cơ sở dữ liệu quốc gia về thủ tục hành chính" not in messages[0]["text"]


async def test_a_catalogue_record_of_a_curated_procedure_is_answered_by_the_curated_guidance():
    # the fixture holds a record with birth registration's national code: the curated guide answers, not the record
    events, messages = await ask("cho hỏi thủ tục mã 1.001193 nộp ở đâu")
    assert events[0] == SlotSet("procedure_key", "khai_sinh")
    assert "Cơ sở dữ liệu quốc gia về thủ tục hành chính" not in messages[0]["text"]
