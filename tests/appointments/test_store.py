"""Bookings on SQLite and PostgreSQL: capacity under real concurrency, idempotency, owner checks, moves."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List

import sqlalchemy as sa

from onestop.appointments import store
from knowledge.offices import get_office
from tests.appointments.conftest import vn

NOW = vn(2027, 3, 1, 7, 0)           # Monday morning, before opening
SLOT = vn(2027, 3, 2, 9, 0)          # Tuesday 09:00
PHONE = "0912345678"


def _book(url: str, slot=SLOT, phone: str = PHONE, sender: str = "u1", key=None, office="phuong_ba_dinh"):
    return store.book(office, slot, "Nguyễn Văn A", phone, channel="messenger", sender_id=sender,
                      procedure_key="khai_sinh", idempotency_key=key, now=NOW, url=url)


def _count(url: str, **where) -> int:
    with store.get_engine(url).connect() as conn:
        q = sa.select(sa.func.count()).select_from(store.bookings)
        for k, v in where.items():
            q = q.where(getattr(store.bookings.c, k) == v)
        return conn.execute(q).scalar_one()


def _concurrently(n: int, fn) -> List[store.BookingResult]:
    barrier = threading.Barrier(n)

    def run(i: int) -> store.BookingResult:
        barrier.wait()  # release every thread at once so they really race for the places
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_book_basic(db_url: str) -> None:
    res = _book(db_url, phone="+84 912.345.678")
    assert res.ok and re.fullmatch(r"LH-[A-Z0-9]{6}", res.booking.code)
    b = res.booking
    assert b.phone == PHONE and b.status == store.BOOKED and b.reminder_status == store.REMINDER_PENDING
    assert b.slot_start == SLOT and b.slot_start.utcoffset().total_seconds() == 7 * 3600
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url) == {"capacity": 3, "taken": 1}
    assert store.free_slots("phuong_ba_dinh", SLOT.date(), NOW, db_url)[2] == (SLOT, 2)


def test_fifty_concurrent_attempts_for_the_last_places(db_url: str) -> None:
    assert _book(db_url, sender="early").ok  # 3 counters: 2 places left
    results = _concurrently(50, lambda i: _book(db_url, sender=f"c{i}", phone=f"09123450{i:02d}"))
    ok = [r for r in results if r.ok]
    full = [r for r in results if r.status == store.SLOT_FULL]
    assert len(ok) == 2 and len(full) == 48
    assert len({r.booking.code for r in ok}) == 2
    for r in full:
        assert r.booking is None and r.alternatives
        assert r.alternatives[0] == (vn(2027, 3, 2, 9, 30), 3)
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url) == {"capacity": 3, "taken": 3}
    assert _count(db_url, slot_start=SLOT, status=store.BOOKED) == 3
    assert all(s != SLOT for s, _ in store.free_slots("phuong_ba_dinh", SLOT.date(), NOW, db_url))


def test_idempotent_confirmation(db_url: str) -> None:
    first = _book(db_url, key="u1:form-1")
    again = _book(db_url, key="u1:form-1")
    assert first.ok and again.ok and again.duplicate and again.booking.code == first.booking.code
    results = _concurrently(20, lambda i: _book(db_url, key="u2:form-7", sender="u2"))
    assert all(r.ok for r in results)
    assert len({r.booking.code for r in results}) == 1
    assert _count(db_url, idempotency_key="u2:form-7") == 1
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url)["taken"] == 2


def test_wrong_phone_reveals_nothing(db_url: str) -> None:
    code = _book(db_url).booking.code
    wrong_phone = store.cancel(code, "0987654321", now=NOW, url=db_url)
    wrong_code = store.cancel("LH-ZZZZZZ", PHONE, now=NOW, url=db_url)
    assert wrong_phone == wrong_code == store.BookingResult(store.NOT_FOUND)
    moved = store.move(code, "0987654321", vn(2027, 3, 2, 10, 0), now=NOW, url=db_url)
    assert moved == store.BookingResult(store.NOT_FOUND)
    assert store.find_booking(code, "0987654321", db_url) is None
    assert store.cancel(code, "", now=NOW, url=db_url).status == store.NOT_FOUND
    b = store.find_booking(code.lower().replace("-", " "), "0912 345 678", db_url)
    assert b is not None and b.status == store.BOOKED and b.slot_start == SLOT


def test_cancel_frees_the_place(db_url: str) -> None:
    code = _book(db_url).booking.code
    res = store.cancel(code, "+84912345678", now=NOW, url=db_url)
    assert res.ok and res.booking.status == store.CANCELLED
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url)["taken"] == 0
    assert store.cancel(code, PHONE, now=NOW, url=db_url).status == store.NOT_FOUND  # no double free


def test_move_respects_capacity(db_url: str) -> None:
    target = vn(2027, 3, 2, 10, 0)
    code = _book(db_url).booking.code
    for i in range(3):
        assert _book(db_url, slot=target, sender=f"t{i}", phone=f"090000000{i}").ok
    full = store.move(code, PHONE, target, now=NOW, url=db_url)
    assert full.status == store.SLOT_FULL and full.alternatives[0] == (vn(2027, 3, 2, 10, 30), 3)
    assert store.get_booking(code, db_url).slot_start == SLOT
    assert store.slot_usage("phuong_ba_dinh", target, db_url)["taken"] == 3
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url)["taken"] == 1
    ok = store.move(code, PHONE, vn(2027, 3, 2, 14, 0), now=NOW, url=db_url)
    assert ok.ok and ok.booking.slot_start == vn(2027, 3, 2, 14, 0) and ok.booking.code == code
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url)["taken"] == 0
    assert store.slot_usage("phuong_ba_dinh", vn(2027, 3, 2, 14, 0), db_url)["taken"] == 1


def test_concurrent_moves_into_last_place(db_url: str) -> None:
    target = vn(2027, 3, 3, 8, 0)
    for i in range(2):
        assert _book(db_url, slot=target, sender=f"t{i}", phone=f"090000000{i}").ok
    codes = [_book(db_url, sender=f"m{i}", phone=f"09100000{i:02d}", slot=vn(2027, 3, 2, 8 + i % 3, 0)).booking.code
             for i in range(6)]
    results = _concurrently(6, lambda i: store.move(codes[i], f"09100000{i:02d}", target, now=NOW, url=db_url))
    assert sum(r.ok for r in results) == 1 and sum(r.status == store.SLOT_FULL for r in results) == 5
    assert store.slot_usage("phuong_ba_dinh", target, db_url)["taken"] == 3


def test_invalid_slots(db_url: str) -> None:
    lunch = _book(db_url, slot=vn(2027, 3, 2, 12, 0))
    assert lunch.status == store.INVALID_SLOT and lunch.reason == "not_a_slot" and lunch.alternatives
    odd = _book(db_url, slot=vn(2027, 3, 2, 9, 10))
    assert odd.status == store.INVALID_SLOT
    holiday = _book(db_url, slot=vn(2027, 4, 30, 9, 0))
    assert holiday.status == store.INVALID_SLOT and holiday.reason == "holiday"
    assert holiday.alternatives[0][0] == vn(2027, 5, 4, 8, 0)
    past = store.book("phuong_ba_dinh", vn(2027, 3, 2, 9, 0), "A", PHONE, channel="rest", sender_id="x",
                      now=vn(2027, 3, 2, 9, 5), url=db_url)
    assert past.status == store.INVALID_SLOT and past.alternatives[0][0] == vn(2027, 3, 2, 9, 30)
    assert _book(db_url, phone="12345").status == store.INVALID_INPUT
    assert _count(db_url) == 0


def test_office_without_saturday(db_url: str) -> None:
    sat = vn(2027, 3, 6, 8, 0)
    assert _book(db_url, slot=sat).status == store.INVALID_SLOT
    assert _book(db_url, slot=sat, office=get_office("phuong_hoan_kiem")).ok


def test_code_collision_is_retried(db_url: str, monkeypatch) -> None:
    first = _book(db_url).booking.code
    codes = iter([first, first, "LH-NEW123"])
    monkeypatch.setattr(store, "new_code", lambda: next(codes))
    res = _book(db_url, sender="u2", phone="0987654321")
    assert res.ok and res.booking.code == "LH-NEW123"
    # The failed attempts were rolled back whole: they took no place.
    assert store.slot_usage("phuong_ba_dinh", SLOT, db_url)["taken"] == 2


def test_codes_are_random() -> None:
    codes = {store.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(re.fullmatch(r"LH-[A-Z0-9]{6}", c) for c in codes)
