"""Schema validation: every problem reported as `file: field: message`, all of them, not only the first."""
from __future__ import annotations

from pathlib import Path

from knowledge.schema import load_knowledge_base, validate

from .conftest import procedure, write_kb

def has(errors, text: str) -> bool:
    """True when some error contains ``text`` (paths are shown relative to the knowledge folder's parent)."""
    return any(text in e for e in errors)


OFFICE = {"id": "phuong_a", "name": "UBND phường A", "kind": "commune", "status": "unconfirmed",
          "hours": {"mon": ["08:00-11:30", "13:30-17:00"]}, "receives": ["khai_sinh"]}


def test_valid_small_kb_has_no_errors(small_kb: Path):
    assert validate(small_kb) == []
    kb = load_knowledge_base(small_kb)
    assert sorted(kb.procedures) == ["ho_chieu", "ket_hon", "khai_sinh"]
    ks = kb.procedures["khai_sinh"]
    assert ks.documents.documents[0].name == "Tờ khai đăng ký khai sinh"
    assert ks.submit.extra["postal"] == "yes"
    assert ks.unconfirmed_count() == 2  # online section + one unconfirmed fee item


def test_errors_are_file_field_message_and_all_collected(tmp_path: Path):
    bad = procedure("khai_sinh", aliases=["a", "b"], fees={"status": "guess", "text": "x"})
    del bad["official_name"]
    kb = write_kb(tmp_path, {"khai_sinh": bad})
    errors = validate(kb)
    assert has(errors, "procedures/khai_sinh.yml: official_name: missing (required)")
    assert has(errors, "procedures/khai_sinh.yml: aliases: needs at least 3")
    assert has(errors, "procedures/khai_sinh.yml: fees.status: 'guess' is not one of")
    assert all(e.count(": ") >= 2 for e in errors)


def test_key_must_equal_file_name_and_be_unique(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure("khai_sinh"), "copy": procedure("khai_sinh"),
                             "Bad-Key": procedure("Bad-Key")})
    errors = validate(kb)
    assert any("copy.yml: key: 'khai_sinh' differs from the file name 'copy'" in e for e in errors)
    assert has(errors, "key: duplicate key 'khai_sinh' (also in")
    assert any("Bad-Key.yml: key: 'Bad-Key' is not an ascii slug" in e for e in errors)


def test_verified_requires_who_and_when(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure(
        fees={"status": "verified", "text": "Miễn lệ phí."},
        steps={"status": "verified", "verified_by": "Nguyễn Văn A", "verified_at": "24/11/2026", "items": ["x"]})})
    errors = validate(kb)
    assert has(errors, "procedures/khai_sinh.yml: fees.verified_by: required when status is verified")
    assert has(errors, "procedures/khai_sinh.yml: fees.verified_at: required")
    assert has(errors, "procedures/khai_sinh.yml: steps.verified_at: '24/11/2026' is not a date")


def test_related_keys_must_exist(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure(related=["ket_hon", "khai_sinh"])})
    errors = validate(kb)
    assert has(errors, "procedures/khai_sinh.yml: related[0]: unknown procedure key 'ket_hon'")
    assert has(errors, "procedures/khai_sinh.yml: related[1]: a procedure cannot be related to itself")


def test_section_values_and_unknown_fields(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure(
        submit={"status": "sourced", "offices": ["district"], "postal": "maybe", "in_person": "x"},
        online={"status": "sourced", "level": "level4", "portals": ["zalo"], "text": "x"},
        steps={"status": "sourced"}, colour="blue")})
    errors = validate(kb)
    for expected in ("submit.offices[0]: 'district' is not one of", "submit.postal: 'maybe' is not one of",
                     "online.level: 'level4' is not one of", "online.portals[0]: 'zalo' is not one of",
                     "steps: has no content", "colour: unknown field"):
        assert any(expected in e for e in errors), expected


def test_sources_may_be_empty_only_when_everything_is_unconfirmed(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure(sources=[])})
    assert any("sources: empty although" in e for e in validate(kb))


def test_invalid_yaml_and_empty_file_are_reported(tmp_path: Path):
    kb = write_kb(tmp_path, {"khai_sinh": procedure()}, raw={"broken.yml": "key: [unclosed\n", "empty.yml": ""})
    errors = validate(kb)
    assert any("procedures/broken.yml: line" in e and "invalid YAML" in e for e in errors)
    assert has(errors, "procedures/empty.yml: (file): empty file")
    assert "khai_sinh" in load_knowledge_base(kb).procedures  # the valid file is still served


def test_office_receives_keys_must_exist(tmp_path: Path):
    offices = [OFFICE, dict(OFFICE, id="phuong_b", receives=["all_commune", "visa"], kind="ward",
                            hours={"mon": ["17:00-08:00"], "xyz": ["08:00-09:00"]}, counters=0)]
    kb = write_kb(tmp_path, {"khai_sinh": procedure()}, offices=offices)
    errors = validate(kb)
    for expected in ("offices.yml: offices[phuong_b].receives[1]: unknown procedure key 'visa'",
                     "offices.yml: offices[phuong_b].kind: 'ward' is not one of",
                     "offices.yml: offices[phuong_b].hours.mon: '17:00-08:00' is not a span",
                     "offices.yml: offices[phuong_b].hours.xyz: unknown weekday",
                     "offices.yml: offices[phuong_b].counters: must be a positive integer"):
        assert any(expected in e for e in errors), expected
    assert not any("phuong_a" in e for e in errors)


def test_holidays(tmp_path: Path):
    holidays = [{"date": "2027-01-01", "name": "Tết Dương lịch"}, {"date": "2027-01-01", "name": "again"},
                {"date": "2027-13-01", "name": "bad"}]
    kb = write_kb(tmp_path, {"khai_sinh": procedure()}, holidays=holidays)
    errors = validate(kb)
    assert has(errors, "holidays.yml: holidays[1].date: duplicate date 2027-01-01")
    assert has(errors, "holidays.yml: holidays[2].date:")
    assert len(load_knowledge_base(kb).holidays) == 1


def test_real_procedures_are_valid(real_kb_dir: Path):
    kb = load_knowledge_base(real_kb_dir)
    assert len(kb.procedures) >= 30
    procedure_errors = [e for e in kb.errors if "/procedures/" in e or e.startswith("knowledge/procedures")]
    assert procedure_errors == []
