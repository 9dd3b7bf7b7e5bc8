"""Office look-up for citizens: address, hours and phone of a one-stop office, matched by name."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from nlu.textnorm import canonical

OFFICES_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "offices.yml"
DAY_NAMES = {"mon": "Thứ Hai", "tue": "Thứ Ba", "wed": "Thứ Tư", "thu": "Thứ Năm", "fri": "Thứ Sáu",
             "sat": "Thứ Bảy", "sun": "Chủ nhật"}
# Words that name the kind of office, not which one: they must not decide a match on their own.
GENERIC = {"uy", "ban", "nhan", "dan", "phuong", "xa", "quan", "huyen", "thi", "tran", "cong", "an",
           "bo", "phan", "mot", "cua", "trung", "tam", "ha", "noi", "thanh", "pho", "tp", "ubnd", "o", "dau"}


@functools.lru_cache(maxsize=4)
def load_offices(path: str = str(OFFICES_FILE)) -> Tuple[Dict[str, Any], ...]:
    """The offices of the knowledge base (cached; officers' edits reach it on restart or publish)."""
    with open(path, encoding="utf-8") as fh:
        return tuple((yaml.safe_load(fh) or {}).get("offices") or [])


def _names(office: Dict[str, Any]) -> List[str]:
    return [office.get("name", "")] + list(office.get("aliases") or []) + list(office.get("old_names") or [])


def match_office(text: str, offices: Sequence[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The office whose distinctive name words best cover ``text`` (diacritics and old names tolerated)."""
    all_words = set(canonical(text).split())
    words = all_words - GENERIC
    if not words:
        return None
    best, best_score = None, (0.0, 0)
    for office in offices:
        for name in _names(office):
            key = set(canonical(name).split()) - GENERIC
            if not key:
                continue
            # Full coverage of the distinctive words first; then the name sharing most words, kind words included
            # ("công an phường Yên Hòa" is the police office, not the ward's People's Committee).
            score = (len(words & key) / len(key), len(all_words & set(canonical(name).split())))
            if score > best_score:
                best, best_score = office, score
    return best if best_score[0] >= 0.99 else None


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


def office_answer(office: Dict[str, Any]) -> str:
    """A short Vietnamese description of one office."""
    lines = [office["name"]]
    if office.get("address"):
        lines.append(f"Địa chỉ: {office['address']}")
    lines.append(f"Giờ làm việc: {describe_hours(office.get('hours') or {})}")
    if office.get("phone"):
        lines.append(f"Điện thoại: {office['phone']}")
    if office.get("status") != "verified":
        lines.append("Thông tin này chưa được cán bộ xác nhận lại; anh/chị nên gọi điện trước khi đến.")
    return "\n".join(lines)


class ActionAnswerOffice(Action):
    """Answer an office question (address, hours, phone)."""

    def name(self) -> Text:
        return "action_answer_office"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        offices = load_offices()
        named = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "office"]
        text = " ".join(v for v in named if v) or tracker.latest_message.get("text") or ""
        office = match_office(text, offices)
        if office:
            dispatcher.utter_message(text=office_answer(office))
            return []
        listing = "\n".join(f"- {o['name']}" for o in offices[:8])
        dispatcher.utter_message(
            text="Anh/chị muốn hỏi về cơ quan nào ạ? Tôi có thông tin các nơi tiếp nhận hồ sơ sau:\n" + listing,
            buttons=[{"title": o["name"], "payload": f"/ask_office{{\"office\":\"{o['name']}\"}}"}
                     for o in offices[:5]],
        )
        return []
