"""What may be shown to anyone with the code, and what only after proof of ownership."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from onestop.dossiers.model import (
    Dossier,
    DossierStatus,
    is_valid_code,
    mask_phone,
    parse_status,
    private_view,
    public_view,
    render_private_vi,
    render_public_vi,
)
from onestop.dossiers.seed import generate_demo_dossiers

DEMO = generate_demo_dossiers()


def _personal_strings(d: Dossier) -> list:
    digits = d.applicant_phone
    return [d.applicant_name, digits, f"{digits[:4]} {digits[4:7]} {digits[7:]}", digits[1:]]


@pytest.mark.parametrize("d", DEMO, ids=[d.code for d in DEMO])
def test_public_view_never_contains_name_or_phone(d: Dossier) -> None:
    view = public_view(d)
    assert "applicant_name" not in view and "applicant_phone" not in view
    dumped = json.dumps(view, ensure_ascii=False) + render_public_vi(d)
    for secret in _personal_strings(d):
        assert secret not in dumped
    assert view["code"] == d.code and view["status"] == d.status.value and view["status_label_vi"]
    assert view["received_at"] == d.received_at.isoformat() and view["due_at"] == d.due_at.isoformat()
    # Before the proof: status and dates only (issue 13): no procedure, office, documents, fee.
    assert set(view) == {"code", "status", "status_label_vi", "received_at", "due_at", "updated_at"}
    text = render_public_vi(d)
    assert d.procedure_name not in text and d.office_name not in text
    assert not any(doc in text for doc in d.missing_documents)


def test_private_view_shows_full_name_and_masked_phone() -> None:
    d = DEMO[0]
    view = private_view(d)
    assert view["applicant_name"] == d.applicant_name
    # None of the 4 digits the proof asks for is ever shown.
    assert view["applicant_phone_masked"] == d.applicant_phone[:3] + "*" * (len(d.applicant_phone) - 3)
    assert d.applicant_phone not in json.dumps(view)
    assert {k: v for k, v in view.items() if k in public_view(d)} == public_view(d)
    text = render_private_vi(d)
    assert d.applicant_name in text and d.applicant_phone not in text and d.applicant_phone[-4:] not in text
    assert d.procedure_name in text and d.office_name in text


def test_free_text_is_scrubbed_of_personal_data_a_backend_wrote_into_it() -> None:
    d = dataclasses.replace(
        DEMO[0],
        applicant_name="Nguyễn Văn An",
        applicant_phone="0912000045",
        next_step_vi="Ông NGUYỄN VĂN AN (ĐT 0912 000 045, +84912000045) cần bổ sung giấy tờ; "
        "liên hệ cán bộ Trần Thị B",
        missing_documents=["Bản sao CCCD của Nguyễn Văn An"],
    )
    view = private_view(d)
    dumped = json.dumps({k: v for k, v in view.items() if not k.startswith("applicant_")}, ensure_ascii=False)
    assert "Nguyễn Văn An".casefold() not in dumped.casefold()
    assert "0912" not in dumped and "912000045" not in dumped
    assert "Trần Thị B" in view["next_step_vi"]  # other people's (officers') names are not the applicant's


def test_free_text_masks_any_mobile_or_id_number_but_keeps_landlines_and_amounts() -> None:
    d = dataclasses.replace(
        DEMO[0],
        next_step_vi="Nộp 1.250.000 đồng trước 25/11/2026; hỏi anh Bình 0987 654 321 (CCCD 001203004567) "
        "hoặc tổng đài 024 3825 1234.",
    )
    text = private_view(d)["next_step_vi"]
    assert "0987 654 321" not in text and "001203004567" not in text
    assert "1.250.000 đồng" in text and "25/11/2026" in text and "024 3825 1234" in text


def test_mask_phone() -> None:
    assert mask_phone("0912 000 045") == "091*******"
    assert mask_phone("+84 912 000 045") == "091*******"
    assert mask_phone("") == ""


def test_dict_round_trip_and_status_aliases() -> None:
    d = DEMO[3]
    again = Dossier.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again == d
    assert parse_status("releasing") is DossierStatus.READY
    assert parse_status("WAITING") is DossierStatus.SUPPLEMENT_REQUIRED
    assert parse_status("done") is DossierStatus.RETURNED
    with pytest.raises(ValueError):
        parse_status("lost")
    data = d.to_dict() | {"updated_at": "2026-11-20T08:00:00Z", "status": "paying", "status_label_vi": "x"}
    parsed = Dossier.from_dict(data)
    assert parsed.status is DossierStatus.FEE_DUE and parsed.status_label_vi != "x"
    assert parsed.updated_at == dt.datetime(2026, 11, 20, 8, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError):
        Dossier.from_dict(d.to_dict() | {"fee_amount": "nhiều"})


def test_code_validation() -> None:
    assert is_valid_code("000.00.11.H26-241115-0007")
    assert is_valid_code("G22.39.16-230615-0001")
    assert not is_valid_code("000.00.11.H26-241315-0007")  # month 13
    assert not is_valid_code("000.00.11.H26-241115-007")
    assert not is_valid_code("000.00.11.h26-241115-0007")
    assert not is_valid_code("")


def test_repr_keeps_personal_data_out_of_logs() -> None:
    d = DEMO[0]
    assert d.applicant_name not in repr(d) and d.applicant_phone not in repr(d)
