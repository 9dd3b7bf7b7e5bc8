"""The one masking rule: a masked phone never shows any of the 4 digits the ownership proof asks for."""
from __future__ import annotations

import pytest

from connectors.logsafe import mask as log_mask
from onestop.dossiers.model import mask_phone as dossier_mask
from onestop.handoffs.records import _mask as handoff_mask
from onestop.handoffs.unanswered import mask as unanswered_mask
from infra.masking import mask_digits, mask_phone, mask_text


@pytest.mark.parametrize("phone", ["0912345678", "0905320532", "+84 912 345 678", "0912.345.678"])
def test_no_masked_phone_shows_a_proof_digit(phone):
    digits = "".join(c for c in phone if c.isdigit())
    local = "0" + digits[2:] if digits.startswith("84") else digits
    for out in (mask_phone(phone), dossier_mask(phone), mask_text(f"sđt {phone}"), log_mask(f"gọi {phone}"),
                handoff_mask(f"số {phone}"), unanswered_mask(f"số {phone}")):
        shown = "".join(c for c in out if c.isdigit())
        assert shown == local[:3] and out.endswith("*" * (len(local) - 3)), out  # the prefix only


def test_every_writer_masks_the_same_way():
    text = "cccd 001203004567, sđt 0912345678"
    expected = "cccd 0012********, sđt 091*******"
    assert mask_text(text) == log_mask(text) == handoff_mask(text) == unanswered_mask(text) == expected


def test_odd_input():
    assert mask_text(None) is None and mask_text("") == "" and mask_digits("mã 0532 nhé") == "mã **** nhé"
    assert mask_phone("12") == "**" and mask_text("x" * 10, limit=3) == "xxx"


def test_mask_text_recognises_phones_and_id_numbers_only():
    text = "sđt 0912 345 678, cccd 001203004567, mã LH-7K2Q9M"
    assert mask_text(text) == "sđt 091*******, cccd 0012********, mã LH-7K2Q9M"
    assert mask_text("+84 912 345 678") == "091*******"
    assert mask_text("không có gì") == "không có gì"
    for odd in ["😀" * 50, "\x00\x01", "0" * 5000, ("0912345678 " * 500), "+" * 100, "lh" * 200]:
        assert isinstance(mask_text(odd), str)
