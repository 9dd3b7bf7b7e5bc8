"""What a dossier-code answer really is when it is not a valid code: a code with a wrong or missing part, the
last 4 digits of a phone (the proof), or an ID number (which is never echoed)."""
from __future__ import annotations

import re
from typing import Optional

from vntext.textnorm import fold

# A code-looking run: the unit (000.00.11.H26), then possibly a date and a sequence number, loosely separated.
_LOOSE_RE = re.compile(
    r"(?<![\w.])(?P<unit>\d{3}[ .]?\d{2}[ .]?\d{2}[ .]?[a-z]\d{2})(?:[ \t]*[-–—.][ \t]*(?P<date>\d{1,8}))?"
    r"(?:[ \t]*[-–—.][ \t]*(?P<seq>\d{1,6}))?(?![\w])")
_PROOF_RE = re.compile(r"\b(?:4|bon) (?:so|chu so) cuoi\D{0,12}(\d{4})\b|^\D{0,8}(\d{4})\D{0,6}$")
_ID_RE = re.compile(r"(?<!\d)0\d{11}(?!\d)")
EXAMPLE = "000.00.11.H26-241115-0007"


def malformed_code(text: str) -> Optional[str]:
    """The code-looking part of ``text`` when it is not a valid code, else None."""
    m = _LOOSE_RE.search(fold(text or ""))
    return m.group(0) if m else None


def explain_malformed(text: str) -> Optional[str]:
    """Which part of a mistyped dossier code is wrong or missing, in Vietnamese; None when nothing code-like."""
    m = _LOOSE_RE.search(fold(text or ""))
    if not m:
        return None
    typed = m.group(0).upper()
    date, seq = m.group("date"), m.group("seq")
    if date is None:
        return (f"Mã {typed} mới có phần mã đơn vị, còn thiếu ngày tiếp nhận (6 chữ số) và số thứ tự (4 chữ số) "
                f"ở cuối, ví dụ {EXAMPLE}.")
    if len(date) != 6 or not _valid_yymmdd(date):
        return (f"Phần ngày tiếp nhận «{date}» trong mã {typed} chưa đúng: cần 6 chữ số năm-tháng-ngày "
                f"(ví dụ 241115 là 15/11/2024), dạng {EXAMPLE}.")
    if seq is None:
        return f"Mã {typed} còn thiếu phần cuối: số thứ tự gồm 4 chữ số (ví dụ {EXAMPLE})."
    if len(seq) != 4:
        return (f"Phần số thứ tự «{seq}» ở cuối mã {typed} chưa đúng: cần đúng 4 chữ số (ví dụ {EXAMPLE}).")
    return None


def _valid_yymmdd(day: str) -> bool:
    month, dom = int(day[2:4]), int(day[4:6])
    return 1 <= month <= 12 and 1 <= dom <= 31


def proof_digits(text: str) -> Optional[str]:
    """'4 số cuối là 2519' (or a bare 4-digit answer) -> '2519'."""
    m = _PROOF_RE.search(fold(text or "").strip())
    return (m.group(1) or m.group(2)) if m else None


_PRIVATE_RE = re.compile(r"\b(ten nguoi nop|nguoi nop|nguoi dung ten|ho ten|chi tiet|so dien thoai|thong tin ca nhan)\b")


def asks_private(text: str) -> bool:
    """The message asks for the applicant's personal details (name, phone, "chi tiết")."""
    return bool(_PRIVATE_RE.search(fold(text or "")))


def has_id_number(text: str) -> bool:
    """A 12-digit citizen ID number in the text."""
    return bool(_ID_RE.search(re.sub(r"[ .]", "", text or "")))


ID_NOT_A_CODE = ("Tôi chỉ tra cứu được bằng mã hồ sơ in trên giấy tiếp nhận và hẹn trả kết quả, không tra bằng số "
                 "căn cước (và tôi không lưu số này). Nếu mất giấy hẹn, anh/chị có thể xem hồ sơ ở mục Hồ sơ của tôi "
                 "trên Cổng Dịch vụ công quốc gia hoặc ứng dụng VNeID, hoặc liên hệ bộ phận một cửa nơi đã nộp hồ sơ "
                 "(mang theo căn cước) để cán bộ tra giúp.")
PROOF_NOT_A_CODE = ("Đó là 4 số cuối điện thoại để xác minh. Để tra cứu, anh/chị gửi mã hồ sơ trước (ví dụ "
                    f"{EXAMPLE}); sau đó tôi mới hỏi 4 số cuối khi cần hiện thông tin cá nhân.")
