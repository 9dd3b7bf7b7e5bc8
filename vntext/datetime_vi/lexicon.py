"""The words and patterns of Vietnamese date and time expressions (folded, without diacritics)."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Dict, Tuple


DATE = "date"
TIME = "time"

# part of day -> (range name, default clock time when no hour is given)
PART_OF_DAY: Dict[str, Tuple[str, str]] = {
    "sang": ("morning", "08:00"),
    "trua": ("noon", "12:00"),
    "chieu": ("afternoon", "13:30"),
    "toi": ("evening", "18:00"),
    "dem": ("night", "21:00"),
    "khuya": ("night", "22:00"),
}

# Lunar New Year (Tết Nguyên đán) needs a lunar calendar; a table covers the bot's horizon.
TET_DATES: Tuple[_dt.date, ...] = (
    _dt.date(2024, 2, 10), _dt.date(2025, 1, 29), _dt.date(2026, 2, 17), _dt.date(2027, 2, 6),
    _dt.date(2028, 1, 26), _dt.date(2029, 2, 13), _dt.date(2030, 2, 3), _dt.date(2031, 1, 23),
)

# Accepted spellings of a folded word when the user typed diacritics (a bare spelling is always
# accepted because many citizens type without marks).
PROPER: Dict[str, Tuple[str, ...]] = {
    "sang": ("sáng",), "trua": ("trưa",), "chieu": ("chiều",), "toi": ("tối", "tới"), "dem": ("đêm",),
    "khuya": ("khuya",), "buoi": ("buổi",), "nay": ("nay", "này"), "mai": ("mai",), "mot": ("mốt",),
    "kia": ("kia",), "qua": ("qua",), "hom": ("hôm",), "bua": ("bữa",), "ngay": ("ngày",), "thu": ("thứ",),
    "hai": ("hai",), "ba": ("ba",), "tu": ("tư",), "bon": ("bốn",), "nam": ("năm",), "sau": ("sáu", "sau"),
    "bay": ("bảy", "bẩy"), "chu": ("chủ",), "nhat": ("nhật",), "tuan": ("tuần",), "thang": ("tháng",),
    "cuoi": ("cuối",), "dau": ("đầu",), "giua": ("giữa",), "truoc": ("trước",), "ke": ("kế",),
    "tiep": ("tiếp",), "nua": ("nữa",), "mung": ("mùng",), "mong": ("mồng",), "tet": ("tết",),
    "duong": ("dương",), "lich": ("lịch",), "nguyen": ("nguyên",), "dan": ("đán",), "am": ("âm",),
    "tay": ("tây",), "gio": ("giờ",), "phut": ("phút",), "ruoi": ("rưỡi",), "kem": ("kém",),
}

WEEKDAY_WORDS = {"2": 0, "hai": 0, "3": 1, "ba": 1, "4": 2, "tu": 2, "bon": 2, "5": 3, "nam": 3,
                  "6": 4, "sau": 4, "7": 5, "bay": 5}
# "lần thứ hai", "bước thứ 2", "số thứ tự" are ordinals, not weekdays.
ORDINAL_PREV = {"lan", "nguoi", "con", "buoc", "ban", "trang", "muc", "dieu", "khoan", "lop", "tang", "hang",
                 "giai", "vong", "dot", "ky", "phan", "chuong", "cau", "theo", "dung", "xep", "dua",
                 "chau", "thang", "nam", "tuan", "quy", "phong", "quay", "mau"}
ORDER_PREV = {"so", "theo", "dung", "xep"}  # "số thứ tự": bare "thu tu" is "thứ tự" (order) there
# A number followed by these is a quantity ("1-2 ngày", "3 giờ đồng hồ"), not a date or clock time.
UNIT_NEXT = {"ngay", "tuan", "thang", "nam", "gio", "tieng", "phut", "lan", "trieu", "nghin", "ngan", "k",
              "nguoi", "ban", "bo", "dong", "buoi", "dem", "to", "trang", "cai", "chiec", "so", "ty", "muc",
              "ho", "nha", "can", "m", "km", "kg", "tr"}
DURATION_PREV = {"trong", "mat", "het", "can", "tong", "ca", "suot", "duoi", "tren", "hon"}
MOVE_VERBS = {"doi", "chuyen", "lui", "hoan", "day", "sang", "qua", "gui", "ve"}
CHIEU_NEXT_EXCL = {"cao", "dai", "rong", "ngang", "sau", "khach", "long", "theo", "huong", "chuong", "nguoc"}
# "hộ chiếu" (passport), "đối chiếu" (compare), "tham chiếu" typed without marks
CHIEU_PREV_EXCL = {"mot", "hai", "nhieu", "cac", "moi", "nguoc", "xuoi", "da", "ho", "doi", "tham", "phan",
                    "trinh", "soi", "chieu"}
TRUA_PREV_EXCL = {"nghi", "an", "com"}  # "nghỉ trưa" is the lunch break, not a time to come
GREETING_PREV = {"chao", "chuc"}  # "chào buổi sáng", "chúc buổi tối vui vẻ"
NEGATION_NEXT = {"ko", "khong", "k", "kh", "hok", "khg", "chua", "chang", "van", "het"}
# "Nguyễn Mai", "Hoàng Mai", "Phương Mai" typed without marks are names, not "tomorrow".
SURNAMES = {"nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "ngo", "duong",
             "ly", "dinh", "trinh", "luong", "phuong", "xuan"}
SANG_NEXT_EXCL = {"kien", "tao", "lap", "suot", "tac", "choi", "den", "ro", "rua", "loang"}
TOI_NEXT_EXCL = {"da", "thieu", "uu", "cao", "tan", "mat", "hau", "om", "ky", "gian", "nghia"}
MAI_PREV_EXCL = {"hoa", "ban", "cay", "canh", "nay", "luc"}
MAI_NEXT_EXCL = {"mot", "sau", "tang", "dich", "tram", "linh", "hoa", "huong", "phuong"}
NAME_PREV = {"chi", "anh", "em", "co", "ba", "ong", "ban", "be", "chu", "bac", "di", "thim", "mo"}
SUBJECTS = {"em", "toi", "minh", "anh", "chi", "con", "co", "chu", "bac", "ong", "ba", "to", "tui", "ma", "thi"}
DATE_WORD_PREV = {"ngay", "vao", "hom", "ca", "sang", "trua", "chieu", "toi", "dem", "tu", "den", "toi"}

_POD = r"(?:sang|trua|chieu|toi|dem|khuya)"
_WEEK_MOD = r"tuan\s+(?:nay|sau\s+nua|sau|toi|truoc|ke\s+tiep|ke)"
RE_NUMERIC = re.compile(
    r"(?<![\w/.\-:])(?:(?P<pre>ngay(?:\s+(?:mung|mong))?|hom|mung|mong)\s+)?"
    r"(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\w]|[/.\-:]\d)"
)
RE_DAY_MONTH = re.compile(
    r"(?<![\w/.\-])(?:(?P<pre>ngay(?:\s+(?:mung|mong))?|hom|mung|mong)\s+)?(?P<d>\d{1,2})\s+thang\s+"
    r"(?P<m>\d{1,2})(?:\s+nam\s+(?P<y>\d{4}))?(?![\w]|[/.\-:]\d)"
)
RE_DAY = re.compile(
    r"(?<![\w/.\-])(?P<pre>ngay(?:\s+(?:mung|mong))?|mung|mong)\s+(?P<d>\d{1,2})(?P<tet>\s+tet)?"
    r"(?![\w]|[/.\-:]\d)"
)
RE_WEEKDAY = re.compile(
    r"(?<!\w)(?:thu\s*(?P<n>[2-7]|hai|ba|tu|bon|nam|sau|bay)|(?P<cn>chu\s*nhat|cn)|t(?P<tn>[2-7]))"
    rf"(?:\s+(?P<mod>{_WEEK_MOD}|nay|toi))?(?!\w)"
)
RE_RELATIVE = re.compile(
    r"(?<!\w)(?P<w>ngay\s+hom\s+nay|ngay\s+hom\s+qua|hom\s+nay|bua\s+nay|hom\s+qua|bua\s+qua|hom\s+kia"
    r"|ngay\s+mai|ngay\s+mot|ngay\s+kia|mai|mot|nay)(?!\w)"
)
RE_WEEK = re.compile(
    r"(?<!\w)(?:(?P<part>cuoi|dau|giua)\s+)?tuan(?:\s+(?P<which>nay|sau\s+nua|sau|toi|truoc|ke\s+tiep|ke))?(?!\w)"
)
RE_MONTH = re.compile(
    r"(?<!\w)(?:(?P<part>cuoi|dau|giua)\s+)?thang(?:\s+(?P<m>\d{1,2})(?:\s+nam\s+(?P<y>\d{4}))?"
    r"|\s+(?P<which>nay|sau|toi|truoc))?(?![\w]|[/.\-:]\d)"
)
RE_TET = re.compile(r"(?<!\w)tet(?:\s+(?P<kind>duong\s+lich|tay|nguyen\s+dan|am\s+lich|ta))?(?!\w)")
RE_CLOCK = re.compile(
    r"(?<![\w/.:])(?P<h>\d{1,2})"
    rf"(?:\s*(?P<u>h|gio)|g(?=\d|\s+(?:buoi\s+)?{_POD}(?!\w))|:(?=\d\d))"
    r"(?:\s*(?P<mm>\d{2})(?:\s*(?:p|phut))?|\s*(?P<m1>\d)\s*(?:p|phut)|\s+(?P<half>ruoi)"
    r"|\s+kem\s+(?P<kem>\d{1,2})(?:\s*(?:p|phut))?)?"
    rf"(?:\s+(?:buoi\s+)?(?P<pod>{_POD}))?(?![\w]|[/.:]\d)"
)
RE_HALF = re.compile(
    rf"(?<![\w/.:])(?P<h>\d{{1,2}})\s+(?P<half>ruoi)(?:\s+(?:buoi\s+)?(?P<pod>{_POD}))?(?!\w)"
)
RE_POD = re.compile(rf"(?<!\w)(?:(?P<buoi>buoi)\s+)?(?P<pod>{_POD})(?!\w)")
WORD_RE = re.compile(r"\w+")
