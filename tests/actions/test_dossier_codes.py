"""What a wrong answer to "mã hồ sơ?" is: a code with a wrong part, the proof digits, an ID number."""
from __future__ import annotations

import pytest

from onestop.dossiers.codes import explain_malformed, has_id_number, proof_digits


@pytest.mark.parametrize("text, part", [
    ("tra giúp hồ sơ 000.00.12.H26-260915", "thiếu phần cuối: số thứ tự gồm 4 chữ số"),
    ("000.00.12.H26-261399-0001", "Phần ngày tiếp nhận «261399»"),
    ("mã 000.00.12.h26 - 260915 - 12", "Phần số thứ tự «12»"),
    ("hồ sơ 000.00.12.H26 của em", "còn thiếu ngày tiếp nhận"),
])
def test_the_wrong_part_of_a_code_is_named(text: str, part: str) -> None:
    assert part in (explain_malformed(text) or "")


def test_valid_codes_and_plain_text_are_not_malformed() -> None:
    assert explain_malformed("000.00.12.H26-260915-0003") is None
    assert explain_malformed("để mình tìm giấy hẹn đã") is None


def test_proof_digits_and_id_numbers() -> None:
    assert proof_digits("4 số cuối là 7731 nhé") == "7731" and proof_digits("bốn số cuối 0042") == "0042"
    assert proof_digits("à 1290") == "1290" and proof_digits("mã là 000.00.12.H26-260915-0003") is None
    assert has_id_number("căn cước 031 095 004 512") and not has_id_number("0912345678")
