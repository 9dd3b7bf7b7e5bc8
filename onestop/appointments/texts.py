"""Vietnamese wording of the appointment dialogue: days, slots, refusals, summaries and buttons.

Kept apart from the form logic so that the sentences officers may want to adjust live in one place. Buttons are
plain {title, payload} dicts: each connector renders them in its platform's terms.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Dict, List, Optional, Sequence, Tuple

from knowledge import calendar
from knowledge.schema import Office, Procedure

WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
SHORT_WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
MAX_TIME_BUTTONS = 5   # Zalo shows at most 5 buttons; the full list of free times is in the text
MAX_DOCUMENTS = 5
PORTAL = "https://dichvucong.gov.vn"


def payload(intent: str, **entities: str) -> str:
    """A button payload that triggers ``intent`` with ``entities`` (Rasa's /intent{json} form)."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{intent}"


def fmt_day(day: dt.date) -> str:
    """'thứ Năm 26/11/2026'."""
    return f"{WEEKDAYS[day.weekday()]} {day:%d/%m/%Y}"


def cap(text: str) -> str:
    """Upper-case the first letter (a day name opening a sentence)."""
    return text[:1].upper() + text[1:]


def fmt_slot(slot: dt.datetime) -> str:
    """'08:30 thứ Năm 26/11/2026'."""
    local = calendar.to_local(slot)
    return f"{local:%H:%M} {fmt_day(local.date())}"


def day_buttons(days: Sequence[dt.date], intent: str = "inform") -> List[Dict[str, str]]:
    """One button per open day ('T5 26/11')."""
    return [{"title": f"{SHORT_WEEKDAYS[d.weekday()]} {d:%d/%m}", "payload": payload(intent, date=d.isoformat())}
            for d in days]


def time_buttons(slots: Sequence[Tuple[dt.datetime, int]], intent: str = "inform",
                 limit: int = MAX_TIME_BUTTONS) -> List[Dict[str, str]]:
    """Buttons for the first free slots ('08:30')."""
    out = []
    for slot, _free in list(slots)[:limit]:
        local = calendar.to_local(slot)
        out.append({"title": f"{local:%H:%M}", "payload": payload(intent, time=f"{local:%H:%M}")})
    return out


def alternative_buttons(slots: Sequence[Tuple[dt.datetime, int]], intent: str,
                        **extra: str) -> List[Dict[str, str]]:
    """Buttons that carry both day and time ('T5 26/11 08:30'), for offering other slots in one tap."""
    out = []
    for slot, _free in slots:
        local = calendar.to_local(slot)
        out.append({"title": f"{SHORT_WEEKDAYS[local.weekday()]} {local:%d/%m %H:%M}",
                    "payload": payload(intent, date=local.date().isoformat(), time=f"{local:%H:%M}", **extra)})
    return out


def office_buttons(offices: Sequence[Office]) -> List[Dict[str, str]]:
    """One button per office."""
    return [{"title": o.name, "payload": payload("inform", office_id=o.id)} for o in offices]


def list_times(slots: Sequence[Tuple[dt.datetime, int]]) -> str:
    """'08:00, 08:30, 13:30' for every free slot."""
    return ", ".join(f"{calendar.to_local(s):%H:%M}" for s, _ in slots)


def date_refusal(check: calendar.DateCheck, office: Office) -> str:
    """Why the requested day cannot be booked, then the next open days."""
    day = check.day
    reason = check.reason
    if reason == calendar.INVALID_DATE:
        head = "Ngày anh/chị nhập không tồn tại trên lịch (ví dụ tháng 2 không có ngày 30, tháng 11 chỉ có 30 ngày)."
    elif reason == calendar.NO_DATE:
        head = "Tôi chưa nhận ra ngày anh/chị muốn đến. Anh/chị có thể nhập dạng 27/11 hoặc \"thứ Năm tuần sau\"."
    elif reason == calendar.PAST and day is not None:
        head = f"Ngày {day:%d/%m/%Y} đã qua."
    elif reason == calendar.HOLIDAY and day is not None:
        head = f"{cap(fmt_day(day))} là ngày nghỉ ({check.holiday_name}), {office.name} không làm việc."
    elif reason == calendar.CLOSED_DAY and day is not None:
        head = f"{office.name} không tiếp nhận hồ sơ vào {fmt_day(day)}."
    elif reason == calendar.DAY_OVER:
        head = "Hôm nay đã hết giờ nhận lịch hẹn."
    elif reason == calendar.TOO_FAR:
        head = "Tôi chỉ nhận đặt lịch trong vòng một năm tới."
    else:
        head = "Ngày này không đặt lịch được."
    if check.alternatives:
        days = ", ".join(fmt_day(d) for d in check.alternatives)
        return f"{head} Các ngày gần nhất còn nhận lịch: {days}."
    return f"{head} Hiện chưa có ngày nào còn nhận lịch, anh/chị vui lòng liên hệ trực tiếp bộ phận một cửa."


def opening_hours(office: Office) -> str:
    """'08:00-11:30, 13:30-17:00' of the office's first open weekday."""
    for key in calendar.WEEKDAY_KEYS:
        if office.hours.get(key):
            return ", ".join(office.hours[key])
    return ""


def time_refusal(hhmm: str, office: Office) -> str:
    """Why a time cannot be booked: the lunch break, or outside the opening hours (with the hours)."""
    spans = [s for key in calendar.WEEKDAY_KEYS for s in office.hours.get(key) or []]
    hours = opening_hours(office)
    ends = sorted({s[6:11] for s in spans})
    starts = sorted({s[:5] for s in spans})
    if len(starts) > 1 and any(e <= hhmm < s for e in ends for s in starts if e < s):
        return f"{hhmm} là giờ nghỉ trưa, bộ phận một cửa tiếp nhận {hours}. Anh/chị chọn giờ khác nhé."
    return (f"{hhmm} nằm ngoài giờ tiếp nhận hồ sơ ({hours}; khung hẹn cuối bắt đầu trước giờ đóng cửa "
            f"{office.slot_minutes} phút). Anh/chị chọn giờ khác nhé.")


def what_to_bring(procedure: Optional[Procedure]) -> str:
    """The documents to bring for ``procedure`` (never invented: without a procedure, a pointer instead)."""
    if procedure is None:
        return ("Anh/chị nhớ mang theo giấy tờ tùy thân và hồ sơ của thủ tục cần làm; "
                "có thể hỏi tôi \"làm ... cần giấy tờ gì\" để xem danh sách.")
    docs = procedure.documents.documents
    if not docs:
        return f"Giấy tờ cần mang: anh/chị xem hướng dẫn của thủ tục tại {procedure.official_link or PORTAL}."
    lines = [f"Giấy tờ cần mang ({procedure.name}):"]
    lines += [f"- {d.line(notes=False)}" for d in docs[:MAX_DOCUMENTS]]
    if len(docs) > MAX_DOCUMENTS:
        lines.append(f"- và {len(docs) - MAX_DOCUMENTS} giấy tờ khác (xem {procedure.official_link or PORTAL})")
    if procedure.documents.status != "verified":
        lines.append(f"(Danh sách đang chờ cán bộ xác nhận, anh/chị nên kiểm tra lại tại "
                     f"{procedure.official_link or PORTAL}.)")
    return "\n".join(lines)


def office_line(office: Office) -> str:
    """Name, address and phone of the office on one or two lines."""
    line = f"{office.name}"
    if office.address:
        line += f"\nĐịa chỉ: {office.address}"
    if office.phone:
        line += f"\nĐiện thoại: {office.phone}"
    return line


def booking_line(code: str, office: Optional[Office], slot: dt.datetime) -> str:
    """'- LH-ABC123: 09:00 thứ Sáu 04/12/2026 tại UBND phường Phú Diễn'."""
    return f"- {code}: {fmt_slot(slot)} tại {office.name if office else 'điểm tiếp nhận đã chọn'}"


def booking_confirm_question(office: Office, slot: dt.datetime, name: str, phone: str,
                             procedure: Optional[Procedure]) -> str:
    """The summary the citizen confirms before anything is booked."""
    lines = ["Anh/chị kiểm tra lại thông tin đặt lịch:",
             f"- Nơi nộp: {office.name}",
             f"- Thời gian: {fmt_slot(slot)}",
             f"- Họ tên: {name}",
             f"- Số điện thoại: {phone}"]
    if procedure is not None:
        lines.insert(2, f"- Thủ tục: {procedure.name}")
    lines.append("Thông tin đã đúng chưa ạ? Muốn sửa, anh/chị cứ nhắn lại (ví dụ \"đổi sang 9h\").")
    return "\n".join(lines)


def booking_done(code: str, office: Office, slot: dt.datetime, procedure: Optional[Procedure],
                 repeated: bool = False) -> str:
    """The confirmation with the booking code, place, time and what to bring."""
    head = (f"Lịch hẹn này đã được ghi nhận trước đó, mã lịch hẹn: {code}." if repeated
            else f"Đặt lịch thành công! Mã lịch hẹn của anh/chị: {code}.")
    lines = [head, f"Thời gian: {fmt_slot(slot)}", f"Nơi nộp: {office_line(office)}", what_to_bring(procedure),
             "Anh/chị vui lòng đến đúng giờ và giữ mã lịch hẹn cùng số điện thoại đã đăng ký để hủy hoặc đổi lịch."]
    if office.status != "verified":
        lines.append("Lưu ý: địa chỉ và giờ làm việc của điểm này đang chờ xác minh, nên gọi trước khi đến.")
    return "\n".join(lines)


def reminder_text(code: str, office: Office, slot: dt.datetime, procedure: Optional[Procedure]) -> str:
    """The day-before reminder."""
    what = f" để làm thủ tục {procedure.name}" if procedure is not None else ""
    return (f"Nhắc lịch: anh/chị có lịch hẹn lúc {fmt_slot(slot)} tại {office.name}{what} (mã {code}).\n"
            f"Địa chỉ: {office.address or 'xem tại bộ phận một cửa'}\n"
            "Nếu không đến được, anh/chị nhắn \"hủy lịch\" hoặc \"đổi lịch\" kèm mã lịch hẹn.")
