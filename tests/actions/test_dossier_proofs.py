"""Issue 13: ownership proofs kept on the server, limits across senders and codes, lookups limited."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import dossier_actions as da
from onestop.dossiers import backend as backend_mod
from onestop.dossiers import limits
from onestop.dossiers.ownership import MemoryAttemptStore, OwnershipGuard, ProofResult
from onestop.dossiers.proofs import MemoryProofStore, RedisProofStore
from onestop.dossiers.seed import demo_codes, demo_dossier
from tests.actions.helpers import make_tracker

CODE = demo_codes(1)["supplement_required"][0]
OTHER_CODES = [c for codes in demo_codes(2).values() for c in codes if c != CODE]


@pytest.fixture(autouse=True)
async def demo_store(tmp_path, monkeypatch):
    """A fresh seeded SQLite store and fresh guard and limiter for every test (in memory: no REDIS_URL)."""
    monkeypatch.delenv("DOSSIER_API_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DOSSIER_DB_PATH", str(tmp_path / "dossiers.sqlite"))
    monkeypatch.setenv("DOSSIER_SUBSCRIPTIONS_DB_PATH", str(tmp_path / "subs.sqlite"))
    await backend_mod.reset_backend()
    monkeypatch.setattr(da, "_guard", None)
    monkeypatch.setattr(limits, "_limiter", None)
    yield
    await backend_mod.reset_backend()


def last4(code: str) -> str:
    return "".join(c for c in demo_dossier(code).applicant_phone if c.isdigit())[-4:]


def wrong(code: str) -> str:
    right = last4(code)
    return "1111" if right != "1111" else "2222"


async def details(sender: str, code: str = CODE, slot: str = "ok") -> str:
    """What action_show_dossier_details says for a tracker whose slots claim ``slot``."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("/dossier_details", intent="dossier_details", sender_id=sender,
                           slots={"last_dossier_code": code, "proof_last4": slot})
    await da.ActionShowDossierDetails().run(dispatcher, tracker, {})
    return " ".join(m.get("text") or "" for m in dispatcher.messages)


async def prove(sender: str, digits: str, code: str = CODE) -> str:
    """The proof form's validation for ``digits``; the resulting slot value."""
    tracker = make_tracker(digits, intent="inform", slots={"last_dossier_code": code}, sender_id=sender,
                           active_loop="dossier_proof_form")
    slots = await da.ValidateDossierProofForm().validate_proof_last4(digits, CollectingDispatcher(), tracker, {})
    return slots["proof_last4"]


async def test_a_crafted_ok_slot_without_a_server_side_proof_reveals_nothing():
    dossier = demo_dossier(CODE)
    text = await details("attacker")  # as after POST /tracker/events {proof_last4: ok} + execute
    assert dossier.applicant_name not in text and dossier.procedure_name not in text
    assert text == da.NOT_PROVED


async def test_the_proof_is_the_senders_own_and_the_slot_alone_is_not_enough():
    dossier = demo_dossier(CODE)
    assert await prove("citizen", last4(CODE)) == "ok"
    shown = await details("citizen")
    assert dossier.applicant_name in shown and dossier.procedure_name in shown
    assert dossier.applicant_phone[-4:] not in shown  # the masked phone shows none of the asked digits
    assert dossier.applicant_name not in await details("someone-else")  # another sender, same code
    assert dossier.applicant_name not in await details("citizen", slot="locked")


async def test_wrong_answers_from_many_senders_lock_the_code_for_everyone():
    # one wrong answer each from three fresh sender ids (as a REST caller choosing ids would): the third locks
    assert [await prove(f"rest:fresh-{i}", wrong(CODE)) for i in range(3)] == [None, None, "locked"]
    assert await prove("rest:brand-new", last4(CODE)) == "locked"  # even the right answer, from a new id
    assert demo_dossier(CODE).applicant_name not in await details("rest:brand-new")
    text = await details("rest:brand-new", slot="locked")
    assert "bộ phận một cửa" in text and "giấy tiếp nhận" in text


async def test_one_sender_guessing_over_many_codes_is_locked():
    codes = OTHER_CODES[:7]
    results = [await prove("enumerator", wrong(code), code) for code in codes[:6]]
    assert results[-1] == "locked" and results[:5] == [None] * 5
    assert await prove("enumerator", last4(codes[6]), codes[6]) == "locked"


async def test_code_lookups_per_conversation_are_limited():
    sender = "rest:lookups"
    tracker = make_tracker(CODE, sender_id=sender)
    answers = []
    for _ in range(12):
        dispatcher = CollectingDispatcher()
        result = await da.ValidateDossierForm().validate_dossier_code(CODE, dispatcher, tracker, {})
        answers.append((result["dossier_code"], [m["text"] for m in dispatcher.messages]))
    assert all(a == (CODE, []) for a in answers[:10])
    assert answers[10] == (None, [limits.LIMITED]) and answers[11] == (None, [limits.LIMITED])
    # another conversation is not affected
    dispatcher = CollectingDispatcher()
    result = await da.ValidateDossierForm().validate_dossier_code(CODE, dispatcher, make_tracker(CODE), {})
    assert result == {"dossier_code": CODE}


async def test_proofs_expire():
    now = [1000.0]
    store = MemoryProofStore(ttl=900, clock=lambda: now[0])
    await store.grant("a", CODE)
    assert await store.has("a", CODE) and not await store.has("b", CODE)
    now[0] += 901
    assert not await store.has("a", CODE)


async def test_the_guard_grants_the_proof_in_its_store():
    proofs = MemoryProofStore()
    guard = OwnershipGuard(backend_mod.get_backend(), MemoryAttemptStore(), proofs=proofs)
    assert await guard.check("s", CODE, wrong(CODE)) is ProofResult.WRONG
    assert not await guard.is_proved("s", CODE)
    assert await guard.check("s", CODE, last4(CODE)) is ProofResult.OK
    assert await guard.is_proved("s", CODE) and await proofs.has("s", CODE)


async def test_redis_proof_store_is_shared_and_expires(redis_base_url):
    prefix = f"test13:{uuid.uuid4().hex[:8]}:"
    one, two = RedisProofStore(redis_base_url, ttl=1, prefix=prefix), RedisProofStore(redis_base_url, prefix=prefix)
    try:
        await one.grant("zalo-user", CODE)
        assert await two.has("zalo-user", CODE)  # another instance sees it
        assert not await two.has("zalo-user", OTHER_CODES[0])
        await asyncio.sleep(1.2)
        assert not await two.has("zalo-user", CODE)
    finally:
        await one.close()
        await two.close()
