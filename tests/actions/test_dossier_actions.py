"""Dossier actions: exact events and messages, privacy of the applicant's details."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import dossier_actions as da
from onestop.dossiers import backend as backend_mod
from onestop.dossiers import limits
from onestop.dossiers.seed import demo_codes, demo_dossier
from tests.actions.helpers import make_tracker

CODE = demo_codes(1)["supplement_required"][0]
OTHER = demo_codes(1)["ready"][0]


@pytest.fixture(autouse=True)
async def demo_store(tmp_path, monkeypatch):
    """A fresh seeded SQLite store and fresh guard/subscriptions for every test."""
    monkeypatch.delenv("DOSSIER_API_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DOSSIER_DB_PATH", str(tmp_path / "dossiers.sqlite"))
    monkeypatch.setenv("DOSSIER_SUBSCRIPTIONS_DB_PATH", str(tmp_path / "subs.sqlite"))
    await backend_mod.reset_backend()
    monkeypatch.setattr(da, "_guard", None)
    monkeypatch.setattr(da, "_subscriptions", None)
    monkeypatch.setattr(limits, "_limiter", None)
    yield
    await backend_mod.reset_backend()


def last4(code: str) -> str:
    return "".join(c for c in demo_dossier(code).applicant_phone if c.isdigit())[-4:]


async def validate(text: str):
    dispatcher = CollectingDispatcher()
    result = await da.ValidateDossierForm().validate_dossier_code(text, dispatcher, make_tracker(text), {})
    return result, dispatcher.messages


async def test_code_is_normalised_from_lower_case_and_spaces():
    sloppy = CODE.lower().replace(".", " ").replace("-", " - ")
    result, messages = await validate(sloppy)
    assert result == {"dossier_code": CODE}
    assert messages == []


async def test_bad_format_is_explained():
    result, messages = await validate("abc-123")
    assert result == {"dossier_code": None}
    assert "định dạng" in messages[0]["text"]


async def test_unknown_dossier():
    result, messages = await validate("000.00.11.H26-200101-9999")
    assert result == {"dossier_code": None}
    assert "không tìm thấy" in messages[0]["text"]


async def test_public_status_shows_no_personal_data():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(CODE, intent="check_dossier", slots={"dossier_code": CODE})
    events = await da.ActionShowDossier().run(dispatcher, tracker, {})
    assert events == [SlotSet("dossier_code", None), SlotSet("last_dossier_code", CODE),
                      SlotSet("fallback_count", 0.0)]
    dossier = demo_dossier(CODE)
    text = dispatcher.messages[0]["text"]
    assert CODE in text and "Chờ bổ sung" in text
    assert dossier.applicant_name not in text and last4(CODE) not in text
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["/affirm", "/deny", "/dossier_details"]


async def prove(digits: str, code: str = CODE, sender: str = "citizen-1"):
    tracker = make_tracker(digits, intent="inform", slots={"last_dossier_code": code}, sender_id=sender,
                           active_loop="dossier_proof_form")
    dispatcher = CollectingDispatcher()
    slots = await da.ValidateDossierProofForm().validate_proof_last4(digits, dispatcher, tracker, {})
    details = CollectingDispatcher()
    tracker = make_tracker(digits, intent="inform", slots={"last_dossier_code": code, **slots}, sender_id=sender)
    events = await da.ActionShowDossierDetails().run(details, tracker, {})
    return slots, dispatcher.messages + details.messages, events


async def test_right_proof_shows_the_applicant():
    slots, messages, events = await prove(last4(CODE))
    assert slots == {"proof_last4": "ok"}
    assert demo_dossier(CODE).applicant_name in messages[-1]["text"]
    assert events == [SlotSet("proof_last4", None)]


async def test_wrong_proofs_lock_and_never_hint():
    right = last4(CODE)
    close = right[:3] + str((int(right[3]) + 1) % 10)
    first = await prove(close)
    second = await prove("1111" if right != "1111" else "2222")
    assert first[0] == second[0] == {"proof_last4": None}  # asked again
    assert first[1] == second[1] == [{"text": da.WRONG_PROOF, "buttons": [], "elements": [], "custom": {},
                                      "template": None, "response": None, "image": None, "attachment": None}]
    third = await prove("3333" if right != "3333" else "4444")
    assert third[0] == {"proof_last4": "locked"}
    assert "30 phút" in third[1][-1]["text"]
    locked = await prove(right)  # even the right answer is refused while locked
    assert locked[0] == {"proof_last4": "locked"}
    assert all(demo_dossier(CODE).applicant_name not in m.get("text", "") for m in locked[1])
    other_sender = await prove(right, sender="citizen-2")  # issue 13: the lock is per code, for every sender
    assert other_sender[0] == {"proof_last4": "locked"}


async def test_not_four_digits_asks_again_without_counting():
    slots, messages, _ = await prove("không nhớ")
    assert slots == {"proof_last4": None}
    assert "4 chữ số" in messages[0]["text"]


async def test_another_persons_code_reveals_nothing_personal():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(OTHER, intent="check_dossier", slots={"dossier_code": OTHER}, sender_id="stranger")
    await da.ActionShowDossier().run(dispatcher, tracker, {})
    text = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert demo_dossier(OTHER).applicant_name not in text
    assert last4(OTHER) not in text


async def test_subscribe_records_consent():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("có", intent="affirm", slots={"last_dossier_code": CODE}, channel="zalo")
    assert await da.ActionDossierSubscribe().run(dispatcher, tracker, {}) == []
    assert CODE in dispatcher.messages[0]["text"]
    subs = await da.subscriptions().for_sender("citizen-1")
    assert [(s.code, s.channel) for s in subs] == [(CODE, "zalo")]


async def test_backend_down_gives_a_clear_answer(monkeypatch):
    monkeypatch.setenv("DOSSIER_API_URL", "http://127.0.0.1:9/")  # nothing listens on the discard port
    monkeypatch.setenv("DOSSIER_API_TIMEOUT", "1")
    await backend_mod.reset_backend()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(CODE, intent="check_dossier", slots={"dossier_code": CODE})
    events = await da.ActionShowDossier().run(dispatcher, tracker, {})
    assert events == [SlotSet("dossier_code", None)]
    assert "tạm gián đoạn" in dispatcher.messages[0]["text"]
