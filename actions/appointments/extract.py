"""What a citizen's message gives for a booking, whichever question was asked: names, times, corrections.

Pure functions over the message text (and the tracker's latest message), no Rasa actions: the forms call them on
every turn so that any slot can come from any message.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from knowledge import calendar
from vntext.textnorm import canonical_words, fold

CANCEL, MOVE = "cancel", "move"
_CANCEL_RE = re.compile(r"\b(huy|khong den|khong di|bo lich|thoi khong)\b")
_NAME_PREFIX_RE = re.compile(r"^(?:(?:ho va )?ten (?:cua )?(?:toi|em|minh|tui|chau|con)? ?(?:la|:)?|"
                             r"(?:toi|em|minh|tui|chau|con) (?:ten )?la|toi ten|em ten|minh ten|ten)\s*",
                             re.IGNORECASE)
_NAME_CHARS_RE = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")
# Common Vietnamese family names: a run of capitalised words is taken as a person only when it starts with one.
SURNAMES = frozenset(fold(s) for s in (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Mai Cao Lương Hà Đào Đoàn "
    "Vương Trương Lâm Tô Tạ Hứa Thái Chu Quách Kiều Lưu Triệu Lạc Khúc Tăng Phùng Mạc Lò Hầu Nông Đàm Đồng Tống "
    "Ông Cù Giang La Lục Thân Kim Khổng Âu Diệp Doãn Nghiêm Quan Tôn Văn Viên Châu Bạch Ninh Từ Phí Lã Hoàng Lại "
    "Thạch Đường Mẫn Ân Mã Giáp Thiều Vi Hàn Kha Sầm Tiêu Lục Hồng Quang Phó Trình Đới Bế Hoa Ứng Yên").split())
_WORD = r"[^\W\d_]+"
# "tên (là)", "người đi (là)", "họ tên": what follows is a name even in lower case.
_MARKED_NAME_RE = re.compile(
    r"(?:(?<![^\W\d_])(?:họ và tên|họ tên|tên|ten|ho ten|người đi|nguoi di|người đến|nguoi den|người làm|nguoi lam)"
    r"(?:\s+(?:của\s+)?(?:mình|em|tôi|tui|cháu|con|minh|toi|chau|bé|ba|bố|mẹ))?(?:\s+(?:là|la))?\s*:?\s+)"
    rf"({_WORD}(?:\s+{_WORD}){{1,5}})", re.IGNORECASE)
_CAPS_RUN_RE = re.compile(r"(?<![^\W\d_])([A-ZÀ-Ỹ][^\W\d_]*(?:\s+[A-ZÀ-Ỹ][^\W\d_]*){1,5})")
# Words that end a name typed before the next piece ("Nguyễn Văn An sđt ...", "tên Lan nhé").
_STOP_WORDS = frozenset("sdt so dien thoai sđt đt dt sđt: nhe nhé a ạ nha nhá voi với va và o ở luc lúc ngay ngày "
                        "sang sáng chieu chiều toi tối gio giờ la là di đi den đến can cần lam làm dat đặt "
                        "phuong phường xa xã quan quận huyện huyen".split())
_PLACE_BEFORE = re.compile(r"(?:phường|xã|quận|huyện|thị trấn|thị xã|công an|ubnd|phuong|xa|quan|huyen|ở|o|tại|tai)"
                           r"\s*$", re.IGNORECASE)


def folded(text: str) -> str:
    """Canonical folded words of ``text`` as one string."""
    return " ".join(canonical_words(text))


def clean_name(text: str) -> Optional[str]:
    """A person's full name from a typed answer ('tên tôi là nguyễn văn an' -> 'Nguyễn Văn An'), or None."""
    raw = " ".join((text or "").split()).strip(" .,!;:")
    if not raw:
        return None
    words = raw.split()
    prefix = _NAME_PREFIX_RE.match(" ".join(canonical_words(raw)))
    if prefix:
        words = words[len(prefix.group(0).split()):]
    name = " ".join(words).strip(" .,!;:")
    if not (2 <= len(name.split()) <= 7) or len(name) > 60 or not _NAME_CHARS_RE.match(name):
        return None
    return " ".join(w[:1].upper() + w[1:].lower() for w in name.split())


def _trim(words: List[str]) -> List[str]:
    out: List[str] = []
    for w in words:
        if fold(w) in _STOP_WORDS or w.lower() in _STOP_WORDS:
            break
        out.append(w)
    return out


def find_name(text: str, exclude: Optional[List[str]] = None) -> Optional[str]:
    """A person's full name written anywhere in a message: after "tên", "người đi là"..., or a capitalised run
    starting with a family name that is not a place ("phường Cầu Giấy")."""
    banned = {fold(x) for x in exclude or []}
    for m in _MARKED_NAME_RE.finditer(text or ""):
        words = _trim(m.group(1).split())
        name = clean_name(" ".join(words)) if len(words) >= 2 else None
        if name and fold(name) not in banned:
            return name
    for m in _CAPS_RUN_RE.finditer(text or ""):
        words = m.group(1).split()
        if _PLACE_BEFORE.search(text[:m.start()]):
            continue
        words = _trim(words)
        if len(words) < 2 or fold(words[0]) not in SURNAMES:
            continue
        name = clean_name(" ".join(words))
        if name and fold(name) not in banned:
            return name
    return None


def latest_intent(tracker: Tracker) -> str:
    """The intent of the latest message."""
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def text_of(tracker: Tracker) -> str:
    """The latest message's text."""
    return str(tracker.latest_message.get("text") or "")


def entity_value(tracker: Tracker, name: str) -> Optional[str]:
    """The first value of entity ``name`` in the latest message."""
    found = [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == name]
    value = found[0].get("value") if found else None
    return str(value) if value not in (None, "") else None


def is_payload(tracker: Tracker) -> bool:
    """A button press ('/intent{...}')."""
    return text_of(tracker).startswith("/")


def datetimes(tracker: Tracker, kind: str) -> List[Any]:
    """Dates or times written in the latest message (resolved now, in Vietnam time)."""
    from vntext.datetime_vi import find_datetimes

    if is_payload(tracker):
        return []
    return [e for e in find_datetimes(text_of(tracker), calendar.now_local()) if e.entity == kind]


_BARE_WEEKDAY_RE = re.compile(r"^(?:(?:vao|ngay|hom) )?(?:thu (?:hai|ba|tu|nam|sau|bay|[2-7])|chu nhat|t[2-7]|cn)$")


def same_week_correction(typed: str, value: str, previous: Optional[str]) -> str:
    """'à nhầm, thứ 6 chứ' after 'thứ 5 tuần sau' means Friday of that same week, not of this one."""
    if not previous or not _BARE_WEEKDAY_RE.match(folded(typed)):
        return value
    try:
        new, old = dt.date.fromisoformat(value), dt.date.fromisoformat(previous)
    except ValueError:
        return value
    moved = old - dt.timedelta(days=old.weekday()) + dt.timedelta(days=new.weekday())
    return moved.isoformat() if moved >= calendar.now_local().date() else value


def slot_datetime(day: str, hhmm: str) -> dt.datetime:
    """The local datetime of ``day`` (ISO) at ``hhmm``."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=calendar.tz())


def parse_time(value: str, text: str = "") -> Optional[str]:
    """'HH:MM' from an entity value; an afternoon is meant by '2h' at an office ('2h' -> 14:00)."""
    m = re.match(r"^\s*(\d{1,2}):(\d{2})", value or "")
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    if 1 <= hour <= 5 and not re.search(r"\b(sang|dem|khuya)\b", folded(text)):
        hour += 12  # offices are closed at 2 a.m.: a bare "2h" or "2 giờ" means 14:00
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def detect_manage_action(text: str) -> Optional[str]:
    """'move' for 'đổi/dời/chuyển lịch', 'cancel' for 'hủy lịch', else None."""
    f = folded(text)
    if re.search(r"\b(doi|chuyen|lui|hoan|dich)\b", f) or "sang ngay" in f:
        return MOVE
    if _CANCEL_RE.search(f):
        return CANCEL
    return None


def slot_values_in(tracker: Tracker) -> Dict[str, bool]:
    """Which booking pieces the latest message carries (a date, a time, a phone, a name)."""
    return {"date": bool(datetimes(tracker, "date")), "time": bool(datetimes(tracker, "time")),
            "phone": bool(entity_value(tracker, "phone")), "name": bool(find_name(text_of(tracker)))}


PHONEISH_RE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[ .\-]?\d){7,11}(?!\d)")


def phone_in(tracker: Tracker) -> Optional[str]:
    """The phone entity, or a phone-looking run of digits (possibly mistyped) in the message."""
    value = entity_value(tracker, "phone")
    if value:
        return value
    m = PHONEISH_RE.search(text_of(tracker)) if not is_payload(tracker) else None
    return m.group(0) if m else None
