"""Pattern entities: dossier codes, booking codes, phones, ID numbers; normalisation and masking."""
from __future__ import annotations

import pytest

from vntext.patterns import (
    find_pattern_entities,
    normalize_booking_code,
    normalize_dossier_code,
    normalize_id_number,
    normalize_phone,
)


def found(text):
    result = [(e.entity, e.text, e.normalized) for e in find_pattern_entities(text)]
    for e in find_pattern_entities(text):
        assert text[e.start:e.end] == e.text
    return result


@pytest.mark.parametrize(
    "typed, canonical",
    [
        ("000.00.11.H26-241115-0007", "000.00.11.H26-241115-0007"),
        ("000.21.30.h26-250301-0123", "000.21.30.H26-250301-0123"),
        ("000 00 11 h26 241115 0007", "000.00.11.H26-241115-0007"),
        ("0000011H26-241115-0007", "000.00.11.H26-241115-0007"),
        ("000.00.11.H26 - 241115 - 0007", "000.00.11.H26-241115-0007"),
        ("H26.22-241115-0007", "H26.22-241115-0007"),
        ("G12.33.40-250101-1234", "G12.33.40-250101-1234"),
        ("g12 33 40 250101 1234", "G12.33.40-250101-1234"),
        ("000.00.11.Ｈ２６-241115-0007", "000.00.11.H26-241115-0007"),
    ],
)
def test_dossier_codes(typed, canonical):
    assert normalize_dossier_code(typed) == canonical
    text = f"cho em tra ho so {typed} voi"
    assert found(text) == [("dossier_code", typed, canonical)]


def test_dossier_code_other_unit_shape_kept_clean():
    assert normalize_dossier_code("12.345.AB-250101-0001") == "12.345.AB-250101-0001"


@pytest.mark.parametrize(
    "text",
    [
        "000.00.11.H26-241315-0007",  # month 13: not a receipt date
        "000.00.11.H26-241115",  # no sequence number
        "ngày 15-12-2026 em nộp",  # a date, not a code
        "241115-0007",
        "H26",
    ],
)
def test_not_dossier_codes(text):
    assert [e for e in find_pattern_entities(text) if e.entity == "dossier_code"] == []


@pytest.mark.parametrize(
    "typed",
    ["LH-7K2Q9M", "lh-7k2q9m", "LH 7K2Q9M", "lh7k2q9m", "Lh - 7k2q9m", "LH-ABCDEF", "LH ABCDEF"],
)
def test_booking_codes(typed):
    assert found(f"mã lịch {typed} nhé") == [("booking_code", typed, normalize_booking_code(typed))]
    assert normalize_booking_code(typed).startswith("LH-") and len(normalize_booking_code(typed)) == 9


@pytest.mark.parametrize("text", ["lh nguoi nha", "lh truoc", "LH-7K2Q9MX", "lh 7k2q9", "alh-7k2q9m"])
def test_not_booking_codes(text):
    assert [e for e in find_pattern_entities(text) if e.entity == "booking_code"] == []


@pytest.mark.parametrize(
    "typed",
    ["0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84 912 345 678", "+84912345678",
     "84912345678", "0084 912 345 678", "+84 (0) 912 345 678", "035 123 4567", "0 912 345 678"],
)
def test_phones(typed):
    assert found(f"sđt {typed} ạ") == [("phone", typed, "0912345678" if "912" in typed else "0351234567")]
    assert normalize_phone(typed) in ("0912345678", "0351234567")


@pytest.mark.parametrize(
    "text",
    [
        "0212345678",  # 02x is a landline prefix
        "09123456789",  # 11 digits
        "091234567",  # 9 digits
        "so 1234567890",
    ],
)
def test_not_phones(text):
    assert [e for e in find_pattern_entities(text) if e.entity == "phone"] == []


def test_phone_not_inside_id_number():
    # 079... is a real province prefix of ID numbers and looks like a 07x mobile
    assert found("cccd 079203004567") == [("id_number", "079203004567", "079203004567")]
    assert found("cccd 079 203 004 567") == [("id_number", "079 203 004 567", "079203004567")]
    assert found("cccd 0792 0300 4567") == [("id_number", "0792 0300 4567", "079203004567")]


def test_phone_not_inside_dossier_code():
    assert [e.entity for e in find_pattern_entities("ma 0000011H26-240915-0912 a")] == ["dossier_code"]


@pytest.mark.parametrize("typed", ["001203004567", "001 203 004 567", "0012 0300 4567", "001203 004567"])
def test_id_numbers(typed):
    assert found(f"số định danh {typed}.") == [("id_number", typed, "001203004567")]


@pytest.mark.parametrize(
    "text", ["0012030045678", "00120300456", "001 203 004 567 8", "1 001 203 004 567", "123456789012"]
)
def test_not_id_numbers(text):
    assert [e for e in find_pattern_entities(text) if e.entity == "id_number"] == []


def test_several_entities_in_order():
    text = "em sdt 0987.654.321, cccd 001203004567, ho so 000.00.11.H26-241115-0007, lich LH-7K2Q9M"
    assert [e[0] for e in found(text)] == ["phone", "id_number", "dossier_code", "booking_code"]


def test_dates_are_not_patterns():
    for text in ["15/12/2026", "ngày 15-12-2026", "14:30 20/11", "2025-12-01"]:
        assert found(text) == []


@pytest.mark.parametrize("bad", [None, "", "   ", "abc", 123, "0912"])
def test_normalizers_reject_invalid(bad):
    assert normalize_phone(bad) is None
    assert normalize_id_number(bad) is None
    assert normalize_booking_code(bad) is None
    assert normalize_dossier_code(bad) is None


def test_normalizers_reject_embedded_text():
    assert normalize_phone("sdt 0912345678") is None
    assert normalize_phone(" 0912345678 ") == "0912345678"


def test_odd_input_never_raises():
    for text in ["😀" * 50, "\x00\x01", "0" * 5000, ("0912345678 " * 500), "+" * 100, "lh" * 200]:
        find_pattern_entities(text)
