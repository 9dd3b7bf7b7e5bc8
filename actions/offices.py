"""Office look-up for citizens: address, hours and phone of a one-stop office, matched by name."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from knowledge import offices as directory
from knowledge.schema import Office

DAY_NAMES = {"mon": "Thứ Hai", "tue": "Thứ Ba", "wed": "Thứ Tư", "thu": "Thứ Năm", "fri": "Thứ Sáu",
             "sat": "Thứ Bảy", "sun": "Chủ nhật"}
UNCONFIRMED = " (chưa xác nhận)"


def describe_hours(hours: Dict[str, List[str]]) -> str:
    """'Thứ Hai-Thứ Sáu: 08:00-11:30, 13:30-17:00; Thứ Bảy: 08:00-11:30' from the hours mapping."""
    groups: List[Tuple[List[str], str]] = []
    for day in DAY_NAMES:
        periods = ", ".join(hours.get(day) or [])
        if not periods:
            continue
        if groups and groups[-1][1] == periods:
            groups[-1][0].append(day)
        else:
            groups.append(([day], periods))
    parts = []
    for days, periods in groups:
        label = DAY_NAMES[days[0]] if len(days) == 1 else f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
        parts.append(f"{label}: {periods}")
    return "; ".join(parts) + " (nghỉ ngày lễ, Tết)" if parts else "chưa có thông tin"


def office_answer(office: Office) -> str:
    """A short Vietnamese description of one office; facts not confirmed by an officer say so."""
    mark = lambda f: UNCONFIRMED if f in office.unconfirmed else ""  # noqa: E731
    lines = [office.name]
    if office.address:
        lines.append(f"Địa chỉ: {office.address}{mark('address')}")
    lines.append(f"Giờ làm việc: {describe_hours(office.hours or {})}{mark('hours')}")
    lines.append(f"Điện thoại: {office.phone}" if office.phone else "Điện thoại: chưa có số đã xác nhận")
    if office.status != "verified":
        lines.append("Thông tin này chưa được cán bộ xác nhận lại; anh/chị nên gọi điện trước khi đến.")
    return "\n".join(lines)


def _named_office(tracker: Tracker) -> Tuple[Optional[Office], directory.Place]:
    named = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "office"]
    text = " ".join(str(v) for v in named if v) or str(tracker.latest_message.get("text") or "")
    place = directory.resolve_place(text)
    if place.status != directory.FOUND and named:
        place = directory.resolve_place(str(tracker.latest_message.get("text") or ""))
    return place.office, place


class ActionAnswerOffice(Action):
    """Answer an office question (address, hours, phone)."""

    def name(self) -> Text:
        return "action_answer_office"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        office, place = _named_office(tracker)
        if office:
            dispatcher.utter_message(text=office_answer(office))
            return []
        if place.status == directory.OTHER_PROVINCE:
            dispatcher.utter_message(text=f"{place.said} thuộc {place.province}, ngoài phạm vi tôi hỗ trợ. Tôi chỉ có "
                                          f"thông tin các điểm tiếp nhận hồ sơ tại {_province()}.")
            return []
        if place.status == directory.CHOOSE:
            dispatcher.utter_message(
                text=f"{place.said} nay thuộc: " + ", ".join(o.name for o in place.candidates[:6])
                     + ". Anh/chị hỏi về nơi nào ạ?",
                buttons=[{"title": o.name, "payload": f"/ask_office{{\"office\":\"{o.name}\"}}"}
                         for o in place.candidates[:5]])
            return []
        # Without a name, the general hours (from the deployment's default calendar) answer "có làm thứ 7 không".
        dispatcher.utter_message(
            text="Các bộ phận một cửa làm việc " + _default_hours() + ". Anh/chị muốn hỏi địa chỉ, giờ làm việc của "
                 "phường/xã nào? Anh/chị nhập tên phường/xã (tên cũ cũng được).",
            buttons=[{"title": o.name, "payload": f"/ask_office{{\"office\":\"{o.name}\"}}"}
                     for o in directory.all_offices() if o.kind == "hcc_center"][:1])
        return []


def _province() -> str:
    from knowledge.admin_units import province_name
    from knowledge.directory import province_key

    return province_name(province_key())


def _default_hours() -> str:
    from knowledge import hours

    return hours.hours_text()
