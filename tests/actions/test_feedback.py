"""'Có hữu ích không?': when it is asked, what a tap stores (masked, per procedure/aspect/channel), exact events."""
from __future__ import annotations

import json

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback import THANKS_REASON, THANKS_UP, ActionFeedback, ask_after
from actions.procedure import ActionAnswerProcedure
from infra.masking import user_ref
from onestop import feedback
from tests.actions.helpers import make_tracker

pytestmark = pytest.mark.usefixtures("loaded_search", "app_db")


def _entities(payload: str):
    body = json.loads(payload[payload.index("{"):])
    return [{"entity": k, "value": v} for k, v in body.items()]


async def _tap(payload: str, sender: str = "zalo-42", channel: str = "zalo"):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(payload, intent="feedback", entities=_entities(payload), sender_id=sender,
                           channel=channel)
    events = await ActionFeedback().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def test_never_twice_in_a_row_and_once_per_procedure():
    assert feedback.should_ask(False, [], "khai_sinh")
    assert not feedback.should_ask(True, [], "khai_sinh")            # the previous answer asked
    assert not feedback.should_ask(False, ["khai_sinh"], "khai_sinh")  # asked about it already


async def test_an_answer_asks_then_the_next_answer_does_not():
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerProcedure().run(
        dispatcher, make_tracker("đăng ký tạm trú mất bao lâu", intent="ask_procedure"), {})
    assert events[-2:] == [SlotSet("feedback_asked", True), SlotSet("feedback_rated", ["tam_tru"])]
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("làm lý lịch tư pháp cần giấy gì", intent="ask_procedure",
                           slots={"feedback_asked": True, "feedback_rated": ["tam_tru"]})
    events = await ActionAnswerProcedure().run(dispatcher, tracker, {})
    assert events[-1] == SlotSet("feedback_asked", False) and len(dispatcher.messages) == 1


async def test_a_decline_does_not_ask():
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerProcedure().run(
        dispatcher, make_tracker("giá vàng hôm nay bao nhiêu", intent="ask_procedure"), {})
    assert not [e for e in events if e["name"].startswith("feedback")]
    assert len(dispatcher.messages) == 1


def test_the_booking_question_is_its_own():
    dispatcher = CollectingDispatcher()
    events = ask_after(make_tracker("Xác nhận"), dispatcher, "booking", "khai_sinh")
    assert events == [SlotSet("feedback_asked", True), SlotSet("feedback_rated", ["booking"])]
    assert dispatcher.messages[0]["text"] == "Việc đặt lịch qua trợ lý có thuận tiện với anh/chị không ạ?"


async def test_thumbs_up_is_stored_with_procedure_aspect_and_channel():
    question = feedback.question("answer", "khai_sinh", "fee", "Đăng ký khai sinh")
    events, messages = await _tap(question["buttons"][0]["payload"])
    assert events == [SlotSet("feedback_asked", False)] and messages[0]["text"] == THANKS_UP
    [row] = feedback.rows()
    assert (row["kind"], row["procedure_key"], row["aspect"], row["value"], row["channel"], row["reason"]) == \
        ("answer", "khai_sinh", "fee", "up", "zalo", None)
    assert row["sender_ref"] == user_ref("zalo-42") and "zalo-42" not in json.dumps(row, default=str)


async def test_thumbs_down_asks_why_and_the_reason_updates_the_same_row():
    question = feedback.question("answer", "tam_tru", "time", "Đăng ký tạm trú")
    events, messages = await _tap(question["buttons"][1]["payload"])
    assert events == [SlotSet("feedback_asked", False)]
    assert messages[0]["text"].startswith("Cảm ơn anh/chị đã góp ý. Chưa hữu ích ở điểm nào ạ?")
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == ["Thiếu thông tin", "Thông tin chưa đúng", "Khó hiểu", "Không đúng thủ tục", "Gặp cán bộ"]
    _, messages = await _tap(messages[0]["buttons"][1]["payload"])
    assert messages[0]["text"] == THANKS_REASON
    [row] = feedback.rows()
    assert (row["value"], row["reason"], row["procedure_key"]) == ("down", "wrong", "tam_tru")


async def test_a_typed_or_forged_feedback_stores_nothing():
    events, messages = await _tap('/feedback{"feedback_value": "maybe"}')
    assert events == [] and messages[0]["text"] == THANKS_UP
    assert feedback.rows() == []
    with pytest.raises(ValueError):
        feedback.record("x", "rest", "answer", "sideways")
