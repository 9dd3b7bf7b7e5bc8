"""Appointment dialogue: exact slot events and messages of the forms, booking, cancel, move and reminder."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import appointment_actions as aa
from infra import db
from onestop.appointments import store
from knowledge import calendar
from knowledge.offices import all_offices, redirect_for
from knowledge.schema import load_procedures
from tests.actions.helpers import entity

NOW = dt.datetime(2026, 11, 30, 7, 0, tzinfo=calendar.tz())  # a Monday morning, before opening
THU = "2026-12-03"
FRI = "2026-12-04"
BOOKING_DOMAIN = {"forms": {"booking_form": {"required_slots": [
    "appt_procedure", "appt_office", "appt_date", "appt_time", "appt_name", "appt_phone", "appt_confirm"]}}}
MANAGE_DOMAIN = {"forms": {"manage_booking_form": {"required_slots": [
    "booking_code", "appt_phone", "manage_action", "appt_date", "appt_time", "appt_confirm"]}}}


@pytest.fixture(autouse=True)
def fixed_world(tmp_path, monkeypatch):
    """A fresh SQLite database and a fixed 'now'."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    monkeypatch.setattr(calendar, "now_local", lambda: NOW)
    store.reset_created()
    yield
    db.dispose_all()
    store.reset_created()


def tracker(text: str, intent: str = "inform", entities: Optional[List[Dict[str, Any]]] = None,
            slots: Optional[Dict[str, Any]] = None, requested: Optional[str] = None,
            loop: str = "booking_form", sender: str = "citizen-1") -> Tracker:
    """A tracker in the middle of ``loop`` whose latest message is ``text``."""
    slots = dict(slots or {})
    slots["requested_slot"] = requested
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []}
    events = [{"event": "user", "text": text, "parse_data": latest, "input_channel": "rest"}]
    return Tracker(sender_id=sender, slots=slots, latest_message=latest, events=events, paused=False,
                   followup_action=None, active_loop={"name": loop} if loop else {},
                   latest_action_name="action_listen")


async def turn(form: aa.AppointmentFormBase, trk: Tracker) -> Tuple[Dict[str, Any], List[str]]:
    """Run the form's validation: (slots set, texts uttered)."""
    dispatcher = CollectingDispatcher()
    domain = MANAGE_DOMAIN if isinstance(form, aa.ValidateManageBookingForm) else BOOKING_DOMAIN
    events = await form.run(dispatcher, trk, domain)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot" and e["name"] != "requested_slot"}
    return slots, [m.get("text") or "" for m in dispatcher.messages]


async def run_action(action: Any, trk: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, trk, {})
    return events, dispatcher.messages


FULL = {"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": THU, "appt_time": "09:00",
        "appt_name": "Nguyễn Văn An", "appt_phone": "0912345678"}


async def test_first_message_fills_office_date_and_time():
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        "đặt lịch ở phường Ba Đình thứ 5 lúc 9h", intent="book_appointment", requested=None))
    assert slots == {"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": THU,
                     "appt_time": "09:00", "appt_confirm": None}
    assert texts == []


async def test_name_and_phone_are_cleaned():
    form = aa.ValidateBookingForm()
    base = {"appt_procedure": "none", "appt_office": "phuong_ba_dinh"}
    slots, _ = await turn(form, tracker("tên tôi là nguyễn văn an", requested="appt_name", slots=base))
    assert slots == {"appt_name": "Nguyễn Văn An", "appt_confirm": None}
    slots, _ = await turn(form, tracker("0912 345 678", entities=[entity("phone", "0912 345 678")],
                                        requested="appt_phone", slots=base))
    assert slots == {"appt_phone": "0912345678", "appt_confirm": None}
    slots, texts = await turn(form, tracker("abc 123", requested="appt_phone", slots=base))
    assert slots == {"appt_phone": None} and "10 chữ số" in texts[0]


async def test_correction_while_the_name_is_asked_changes_the_day_and_clears_the_time():
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        "à nhầm, thứ 6 chứ", requested="appt_name",
        slots={"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": THU, "appt_time": "09:00"}))
    assert slots == {"appt_date": FRI, "appt_time": None, "appt_confirm": None}
    assert texts == []


async def test_a_bare_weekday_correction_stays_in_the_week_of_the_day_it_corrects():
    next_thu = "2026-12-10"
    slots, _ = await turn(aa.ValidateBookingForm(), tracker(
        "à nhầm, thứ 6 chứ", requested="appt_time",
        slots={"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": next_thu}))
    assert slots == {"appt_date": "2026-12-11", "appt_time": None, "appt_confirm": None}


async def test_a_procedure_question_mid_form_fills_nothing_so_the_rules_answer_it():
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        "làm căn cước cần giấy tờ gì", intent="ask_procedure", requested="appt_name",
        slots={"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": THU, "appt_time": "09:00"}))
    assert slots == {} and texts == []


@pytest.mark.parametrize("text,expected", [
    ("31/11", "không tồn tại trên lịch"),
    ("20/11/2026", "Ngày 20/11/2026 đã qua."),
    ("thứ 7", "không tiếp nhận hồ sơ vào thứ Bảy 05/12/2026"),
    ("1/1/2027", "ngày nghỉ (Tết Dương lịch)"),
    ("hôm nào cũng được", "chưa nhận ra ngày"),
])
async def test_refused_days_offer_the_next_open_days(text, expected):
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        text, requested="appt_date", slots={"appt_procedure": "none", "appt_office": "phuong_ba_dinh"}))
    assert slots == {"appt_date": None, "appt_time": None, "appt_confirm": None}
    assert expected in texts[0]
    assert "Các ngày gần nhất còn nhận lịch: thứ " in texts[0]


async def test_lunch_break_and_full_slots_are_refused_with_free_times():
    form = aa.ValidateBookingForm()
    base = {"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": THU}
    slots, texts = await turn(form, tracker("12h", requested="appt_time", slots=base))
    assert slots == {"appt_time": None} and texts[0].startswith("12:00 là giờ nghỉ trưa")
    for i in range(3):  # the office has 3 counters
        assert store.book("phuong_ba_dinh", aa.slot_datetime(THU, "09:00"), "Trần Bình", f"090000000{i}",
                          channel="rest", sender_id=f"other-{i}").ok
    slots, texts = await turn(form, tracker("9h", requested="appt_time", slots=base))
    assert slots == {"appt_time": None}
    assert texts == ["Khung 09:00 thứ Năm 03/12/2026 đã kín hoặc đã qua."]
    assert all(s != aa.slot_datetime(THU, "09:00") for s, _ in store.free_slots("phuong_ba_dinh", dt.date(2026, 12, 3)))
    slots, _ = await turn(form, tracker("2 giờ", requested="appt_time", slots=base))
    assert slots == {"appt_time": "14:00", "appt_confirm": None}


async def test_shared_location_picks_the_nearest_office():
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        '/inform{"latitude": "21.029", "longitude": "105.850"}', requested="appt_office",
        entities=[entity("latitude", "21.029"), entity("longitude", "105.850")], slots={"appt_procedure": "none"}))
    assert slots == {"appt_office": "phuong_hoan_kiem", "appt_confirm": None}
    assert texts[0].startswith("Điểm tiếp nhận gần anh/chị nhất: UBND phường Hoàn Kiếm")


async def test_day_and_time_given_before_the_office_are_checked_at_once_and_again_for_the_office():
    form = aa.ValidateBookingForm()
    slots, texts = await turn(form, tracker("chủ nhật lúc 9h", intent="book_appointment"))
    assert slots == {"appt_procedure": "none", "appt_date": None, "appt_confirm": None, "appt_time": "09:00"}
    assert texts[0].startswith("Bộ phận một cửa không tiếp nhận hồ sơ vào Chủ nhật 06/12/2026.")
    slots, texts = await turn(form, tracker("thứ 5 lúc 12h", intent="book_appointment"))
    assert slots == {"appt_procedure": "none", "appt_date": THU, "appt_time": None}
    assert texts[0].startswith("12:00 là giờ nghỉ trưa")
    slots, texts = await turn(form, tracker("thứ 7 lúc 9h", intent="book_appointment"))
    assert slots["appt_date"] is None and "không tiếp nhận hồ sơ vào thứ Bảy" in texts[0]
    # Saturday morning is open at phường Hoàn Kiếm (its own calendar): the day is checked again there.
    slots, texts = await turn(form, tracker("công an phường Yên Hòa", requested="appt_office",
                                            slots={"appt_procedure": "none", "appt_date": "2026-12-05",
                                                   "appt_time": "09:00"}))
    assert slots == {"appt_office": "cong_an_phuong_yen_hoa", "appt_date": None, "appt_time": None,
                     "appt_confirm": None}
    assert texts[0].startswith("Công an phường Yên Hòa không tiếp nhận hồ sơ vào thứ Bảy 05/12/2026.")


async def test_old_district_name_finds_the_new_ward():
    slots, _ = await turn(aa.ValidateBookingForm(), tracker(
        "phuong truc bach", requested="appt_office", slots={"appt_procedure": "none"}))
    assert slots == {"appt_office": "phuong_ba_dinh", "appt_confirm": None}


async def test_office_that_does_not_receive_the_procedure_points_to_one_that_does():
    procedures = load_procedures(aa.get_procedure.__globals__["KB_DIR"] / "procedures", [])
    commune = all_offices()[0]
    station = aa.get_office("cong_an_" + commune.id)
    key = next(k for k in sorted(procedures) if redirect_for(commune, k) and redirect_for(station, k))
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        commune.name, requested="appt_office", slots={"appt_procedure": key}))
    assert set(slots) == {"appt_office", "appt_office_hint"} and slots["appt_office"] is None and texts == []
    events, messages = await run_action(aa.ActionAskApptOffice(), tracker(
        commune.name, requested="appt_office", slots={"appt_procedure": key, **slots}))
    assert messages[0]["text"].startswith(f"{commune.name} không tiếp nhận thủ tục")
    assert "Anh/chị có thể đặt lịch tại:" in messages[0]["text"] and messages[0]["buttons"]
    assert events == [SlotSet("appt_office_hint", None)]


async def test_the_ward_for_an_identity_card_is_its_police_office():
    slots, _ = await turn(aa.ValidateBookingForm(), tracker(
        "ở phường Phú Diễn", requested="appt_office", slots={"appt_procedure": "cap_can_cuoc"}))
    assert slots == {"appt_office": "cong_an_phuong_phu_dien", "appt_confirm": None}


async def test_places_that_cannot_be_booked_are_explained_and_the_question_changes():
    form = aa.ValidateBookingForm()
    base = {"appt_procedure": "none"}
    split, _ = await turn(form, tracker("phường Dịch Vọng Hậu", requested="appt_office", slots=base))
    _, messages = await run_action(aa.ActionAskApptOffice(), tracker("", slots={**base, **split}))
    assert "Phường Dịch Vọng Hậu (tên trước năm 2025) nay thuộc: UBND phường Cầu Giấy, UBND phường Nghĩa Đô" \
        in messages[0]["text"]
    other, _ = await turn(form, tracker("phường Bến Thành", requested="appt_office", slots=base))
    _, messages = await run_action(aa.ActionAskApptOffice(), tracker("", slots={**base, **other}))
    assert messages[0]["text"].startswith("Phường Bến Thành thuộc Hồ Chí Minh, không thuộc Hà Nội.")
    yes, _ = await turn(form, tracker("ừ", intent="affirm", requested="appt_office", slots=base))
    assert yes["appt_office"] is None and yes["appt_misses"] == 1.0
    twice, _ = await turn(form, tracker("ok", intent="affirm", requested="appt_office", slots={**base, **yes}))
    assert twice["appt_misses"] == 2.0
    _, messages = await run_action(aa.ActionAskApptOffice(), tracker("ok", slots={**base, **twice}))
    assert messages[0]["text"].startswith("Xin lỗi, tôi vẫn chưa xác định được điểm tiếp nhận")
    assert messages[0]["buttons"][-1] == {"title": "Gặp cán bộ", "payload": "/human_handoff"}


async def test_every_piece_of_one_message_is_taken():
    slots, texts = await turn(aa.ValidateBookingForm(), tracker(
        "sáng thứ 5 tầm 10h đặt lịch ở phường Cửa Nam, người đi là Bùi Văn Long sđt 0912 345 678",
        intent="book_appointment", entities=[entity("phone", "0912 345 678")]))
    assert slots == {"appt_procedure": "none", "appt_office": "phuong_cua_nam", "appt_date": THU,
                     "appt_time": "10:00", "appt_name": "Bùi Văn Long", "appt_phone": "0912345678",
                     "appt_confirm": None}
    assert texts == []


async def test_confirmation_books_once_even_when_confirmed_twice():
    trk = tracker("/affirm", intent="affirm", slots=dict(FULL, appt_confirm=True), loop="")
    events, messages = await run_action(aa.ActionBookAppointment(), trk)
    code = next(e["value"] for e in events if e["name"] == "last_booking_code")
    assert messages[0]["text"].startswith(f"Đặt lịch thành công! Mã lịch hẹn của anh/chị: {code}.")
    assert "09:00 thứ Năm 03/12/2026" in messages[0]["text"]
    assert all(e["value"] is None for e in events if e["name"] not in ("last_booking_code", "feedback_asked",
                                                                        "feedback_rated"))
    assert events[-2:] == [SlotSet("feedback_asked", True), SlotSet("feedback_rated", ["booking"])]
    assert messages[1]["text"] == "Việc đặt lịch qua trợ lý có thuận tiện với anh/chị không ạ?"
    # The platform redelivers the confirmation before the slots were cleared: the same booking comes back.
    events, messages = await run_action(aa.ActionBookAppointment(), trk)
    assert f"đã được ghi nhận trước đó, mã lịch hẹn: {code}" in messages[0]["text"]
    # A second "yes" after the form was cleared books nothing.
    events, messages = await run_action(aa.ActionBookAppointment(), tracker(
        "có", intent="affirm", slots={"last_booking_code": code}, loop=""))
    assert events == [] and messages[0]["text"] == f"Lịch hẹn {code} của anh/chị đã được ghi nhận rồi ạ."
    assert len(store.list_day("phuong_ba_dinh", dt.date(2026, 12, 3))) == 1


async def test_slot_filled_meanwhile_offers_the_next_ones_in_one_tap():
    for i in range(3):
        assert store.book("phuong_ba_dinh", aa.slot_datetime(THU, "09:00"), "Trần Bình", f"090000000{i}",
                          channel="rest", sender_id=f"other-{i}").ok
    events, messages = await run_action(aa.ActionBookAppointment(), tracker(
        "/affirm", intent="affirm", slots=dict(FULL, appt_confirm=True), loop=""))
    assert messages[0]["text"].startswith("Rất tiếc, khung giờ này vừa hết chỗ.")
    assert messages[0]["buttons"][0] == {
        "title": "T5 03/12 09:30", "payload": '/book_appointment{"date": "2026-12-03", "time": "09:30"}'}
    assert events == [SlotSet("appt_date", None), SlotSet("appt_time", None), SlotSet("appt_confirm", None)]


def _booked(phone: str = "0912345678") -> store.Booking:
    result = store.book("phuong_ba_dinh", aa.slot_datetime(THU, "09:00"), "Nguyễn Văn An", phone,
                        channel="rest", sender_id="citizen-1")
    assert result.ok and result.booking
    return result.booking


async def test_cancel_needs_code_and_phone_and_wrong_ones_look_the_same():
    booking = _booked()
    form = aa.ValidateManageBookingForm()
    other = "other-device"
    slots, _ = await turn(form, tracker(f"hủy lịch {booking.code}", intent="cancel_appointment", sender=other,
                                        entities=[entity("booking_code", booking.code)], loop="manage_booking_form"))
    assert slots == {"booking_code": booking.code, "manage_office": None, "manage_action": "cancel"}
    wrong_phone = await turn(form, tracker("0987654321", requested="appt_phone", loop="manage_booking_form",
                                           sender=other, slots={"booking_code": booking.code,
                                                                "manage_action": "cancel"}))
    wrong_code = await turn(form, tracker("0912345678", requested="appt_phone", loop="manage_booking_form",
                                          sender=other, slots={"booking_code": "LH-ZZZZZZ", "manage_action": "cancel"}))
    assert wrong_phone == wrong_code == ({"appt_phone": None, "manage_attempts": 1.0},
                                         ["Mã lịch hẹn và số điện thoại không khớp với lịch hẹn nào đang còn hiệu "
                                          "lực. Anh/chị kiểm tra lại số điện thoại đã dùng khi đặt lịch (hoặc gửi "
                                          "lại mã lịch hẹn)."])
    slots, _ = await turn(form, tracker("0912345678", requested="appt_phone", loop="manage_booking_form",
                                        sender=other, slots={"booking_code": booking.code, "manage_action": "cancel"}))
    assert slots == {"appt_phone": "0912345678", "manage_office": "phuong_ba_dinh"}
    events, messages = await run_action(aa.ActionManageBooking(), tracker("có", intent="affirm", loop="", slots={
        "booking_code": booking.code, "appt_phone": "0912345678", "manage_action": "cancel", "appt_confirm": True}))
    assert messages[0]["text"].startswith(f"Đã hủy lịch hẹn {booking.code}.")
    assert store.get_booking(booking.code).status == store.CANCELLED
    # The freed key lets the same person book the same slot again.
    again = store.book("phuong_ba_dinh", aa.slot_datetime(THU, "09:00"), "Nguyễn Văn An", "0912345678",
                       channel="rest", sender_id="citizen-1",
                       idempotency_key=aa.idempotency_key("citizen-1", "phuong_ba_dinh", aa.slot_datetime(THU, "09:00"),
                                                          "0912345678"))
    assert again.ok and not again.duplicate


async def test_three_wrong_proofs_end_the_form():
    form = aa.ValidateManageBookingForm()
    slots, texts = await turn(form, tracker("0987654321", requested="appt_phone", loop="manage_booking_form",
                                            slots={"booking_code": "LH-ZZZZZZ", "manage_attempts": 2.0}))
    assert slots["manage_attempts"] == 3.0 and "quá nhiều lần" in texts[0]
    assert await form.required_slots([], CollectingDispatcher(), tracker("x", slots={"manage_attempts": 3.0}), {}) == []


async def test_move_asks_the_new_day_and_time_and_frees_the_old_place():
    booking = _booked()
    form = aa.ValidateManageBookingForm()
    verified = {"booking_code": booking.code, "appt_phone": "0912345678", "manage_office": "phuong_ba_dinh"}
    slots, _ = await turn(form, tracker("đổi sang thứ 6 lúc 10h", intent="cancel_appointment",
                                        loop="manage_booking_form", requested="manage_action", slots=verified))
    assert slots == {"manage_action": "move", "appt_date": FRI, "appt_time": "10:00", "appt_confirm": None}
    events, messages = await run_action(aa.ActionManageBooking(), tracker("có", intent="affirm", loop="", slots=dict(
        verified, manage_action="move", appt_date=FRI, appt_time="10:00", appt_confirm=True)))
    assert messages[0]["text"].startswith("Đã đổi lịch. Thời gian: 10:00 thứ Sáu 04/12/2026")
    assert store.slot_usage("phuong_ba_dinh", aa.slot_datetime(THU, "09:00"))["taken"] == 0
    assert store.get_booking(booking.code).slot_start == aa.slot_datetime(FRI, "10:00")


async def test_reminder_is_a_neutral_event_update_for_the_booking_owner_only():
    booking = _booked()
    trk = tracker("", intent="EXTERNAL_appointment_reminder", loop="",
                  entities=[entity("booking_code", booking.code)])
    _, messages = await run_action(aa.ActionAppointmentReminder(), trk)
    custom = messages[0]["custom"]
    assert custom["notification"] == "confirmed_event_update"
    assert custom["text"].startswith("Nhắc lịch: anh/chị có lịch hẹn lúc 09:00 thứ Năm 03/12/2026 tại UBND phường Ba Đình")
    other = tracker("", intent="EXTERNAL_appointment_reminder", loop="", sender="someone-else",
                    entities=[entity("booking_code", booking.code)])
    assert (await run_action(aa.ActionAppointmentReminder(), other))[1] == []


@pytest.mark.parametrize("text,name", [
    ("tên tôi là nguyễn văn an", "Nguyễn Văn An"), ("Trần thị HỒNG", "Trần Thị Hồng"), ("em là Lê Minh", "Lê Minh"),
    ("An", None), ("0912345678", None), ("làm căn cước cần giấy tờ gì thế ạ bạn ơi cho mình hỏi", None)])
def test_clean_name(text, name):
    assert aa.clean_name(text) == name


@pytest.mark.parametrize("text,action", [
    ("đổi lịch hẹn sang thứ 5", "move"), ("dời lịch giúp tôi", "move"), ("hủy lịch LH-ABC123", "cancel"),
    ("huy lich hen", "cancel"), ("lịch hẹn của tôi", None)])
def test_detect_manage_action(text, action):
    assert aa.detect_manage_action(text) == action


async def test_a_name_that_is_also_a_day_word_is_a_name():
    slots, _ = await turn(aa.ValidateBookingForm(), tracker(
        "Mai Thị Hằng, 0912 345 678", requested="appt_name", entities=[entity("phone", "0912 345 678")],
        slots={"appt_procedure": "none", "appt_office": "phuong_ba_dinh", "appt_date": THU, "appt_time": "09:00"}))
    assert slots == {"appt_name": "Mai Thị Hằng", "appt_phone": "0912345678", "appt_confirm": None}
