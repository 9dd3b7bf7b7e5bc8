"""VietnameseEntityExtractor on Rasa Messages: adds authoritative entities, removes conflicting guesses."""
from __future__ import annotations

import datetime as dt

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu.extractor import EXTRACTOR_NAME, VietnameseEntityExtractor, extract_entities

WED = dt.datetime(2026, 11, 25, 10, 0)


@pytest.fixture()
def extractor() -> VietnameseEntityExtractor:
    ext = VietnameseEntityExtractor(VietnameseEntityExtractor.get_default_config())
    ext.fixed_now = WED
    return ext


def run(extractor, text, entities=None):
    data = {"text": text}
    if entities is not None:
        data["entities"] = entities
    message = Message(data=data)
    extractor.process([message])
    return message.get("entities")


def diet(start, end, entity, text):
    return {"start": start, "end": end, "entity": entity, "value": text[start:end], "confidence_entity": 0.7,
            "extractor": "DIETClassifier"}


def test_adds_pattern_and_datetime_entities(extractor):
    text = "Cho em đặt lịch sáng mai, sđt 0912 345 678, cccd 001203004567, mã lh 7k2q9m"
    ents = run(extractor, text)
    got = [(e["entity"], e["value"], e["normalized"]) for e in ents]
    assert got == [
        ("time", "sáng", "08:00"),
        ("date", "mai", "2026-11-26"),
        ("phone", "0912 345 678", "0912345678"),
        ("id_number", "001203004567", "001203004567"),
        ("booking_code", "lh 7k2q9m", "LH-7K2Q9M"),
    ]
    for e in ents:
        assert text[e["start"]:e["end"]] == e["value"]
        assert e["extractor"] == EXTRACTOR_NAME and e["confidence"] == 1.0


def test_removes_overlapping_and_authoritative_types(extractor):
    text = "hồ sơ 000.00.11.H26-241115-0007 nộp ở UBND xã Đông Anh"
    office_start = text.index("UBND")
    existing = [
        diet(6, 13, "dossier_code", text),  # partial code from DIET
        diet(0, 5, "phone", text),  # DIET may not produce pattern types at all
        diet(20, 31, "procedure", text),  # overlaps our code span
        diet(office_start, len(text), "office", text),  # unrelated: kept
    ]
    ents = run(extractor, text, existing)
    assert [(e["entity"], e["extractor"]) for e in ents] == [
        ("dossier_code", EXTRACTOR_NAME),
        ("office", "DIETClassifier"),
    ]
    assert ents[0]["normalized"] == "000.00.11.H26-241115-0007"


def test_diet_dates_removed_by_default(extractor):
    text = "em muốn nộp vào hôm đó"
    ents = run(extractor, text, [diet(text.index("hôm đó"), len(text), "date", text)])
    assert ents == []


def test_authoritative_types_configurable():
    ext = VietnameseEntityExtractor({"authoritative_types": ["phone"]})
    ext.fixed_now = WED
    text = "em muốn nộp vào hôm đó"
    ents = run(ext, text, [diet(text.index("hôm đó"), len(text), "date", text)])
    assert [e["entity"] for e in ents] == ["date"]


def test_invalid_date_flagged(extractor):
    ents = run(extractor, "hẹn ngày 31/11 được không")
    assert len(ents) == 1
    assert ents[0]["entity"] == "date" and ents[0]["normalized"] is None and ents[0]["invalid"] is True


def test_processing_twice_does_not_duplicate(extractor):
    message = Message(data={"text": "gọi 0912345678 chiều nay"})
    extractor.process([message])
    extractor.process([message])
    assert [e["entity"] for e in message.get("entities")] == ["phone", "time", "date"]


def test_entities_are_output_properties(extractor):
    message = Message(data={"text": "sđt 0912345678"})
    extractor.process([message])
    assert "entities" in message.output_properties


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "...", "a" * 10000, "0" * 3000])
def test_odd_input(extractor, text):
    run(extractor, text)


def test_odd_messages_never_raise(extractor):
    messages = [
        Message(data={}),
        Message(data={"text": None}),
        Message(data={"text": "sáng mai", "entities": [{"entity": "x"}, "garbage", None]}),
        Message(data={"text": "sáng mai", "entities": [{"start": "a", "end": None, "entity": "y"}]}),
    ]
    extractor.process(messages)
    # an entity without offsets cannot overlap ours: it is kept, non-dicts are dropped
    assert [e["entity"] for e in messages[2].get("entities")] == ["x", "time", "date"]
    assert [e["entity"] for e in messages[3].get("entities")] == ["y", "time", "date"]


def test_toggle_datetimes_off():
    ext = VietnameseEntityExtractor({"extract_datetimes": False})
    assert [e["entity"] for e in run(ext, "sáng mai gọi 0912345678")] == ["phone"]


def test_extract_entities_function():
    ents = extract_entities("thứ 2 tuần sau lúc 9h", now=WED)
    assert [(e["entity"], e["normalized"]) for e in ents] == [("date", "2026-11-30"), ("time", "09:00")]
    assert extract_entities(None) == []


def test_create_via_rasa_signature(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from nlu.tokenizer import VietnameseTokenizer

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    ext = VietnameseEntityExtractor.create(
        {**VietnameseEntityExtractor.get_default_config()}, storage, Resource("ext"), context
    )
    tok = VietnameseTokenizer.create(VietnameseTokenizer.get_default_config(), storage, Resource("tok"), context)
    message = Message(data={"text": "chiều mai nộp hồ sơ"})
    tok.process([message])
    ext.process([message])
    assert [t.text for t in message.get("text_tokens")][:2] == ["chiều", "mai"]
    assert [e["entity"] for e in message.get("entities")] == ["time", "date"]


def _with_intent(extractor, text, intent):
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.9}})
    extractor.process([message])
    return [(e["value"], e["entity"]) for e in message.get("entities")]


def test_relative_time_words_only_where_dates_are_answers(extractor):
    assert _with_intent(extractor, "đặt lịch sáng mai", "book_appointment") == [("sáng", "time"), ("mai", "date")]
    assert _with_intent(extractor, "tối nay xem phim gì hay", "out_of_scope") == []
    assert _with_intent(extractor, "thôi để mai tính tiếp", "goodbye") == []
    # explicit calendar dates stay entities whatever the intent
    assert _with_intent(extractor, "hồ sơ nộp hôm 25/11 đến đâu rồi", "check_dossier") == [("25/11", "date")]
    assert _with_intent(extractor, "phường có làm việc tết dương lịch không", "ask_office") == \
        [("tết dương lịch", "date")]


def test_weekdays_are_relative_words(extractor):
    assert _with_intent(extractor, "thứ 7 phường có làm việc không", "ask_office") == []
    assert _with_intent(extractor, "đặt lịch thứ 7", "book_appointment") == [("thứ 7", "date")]
