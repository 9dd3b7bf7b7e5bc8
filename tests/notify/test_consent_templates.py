"""The consent store and the ZNS template registry (validated at load, checked again at send time)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from onestop.notify import consent
from onestop.notify.templates import (
    DEFAULT_PATH,
    TemplateConfigError,
    TemplateDataMissing,
    TemplateNotRegistered,
    load_registry,
    parse_registry,
)


def test_consent_lifecycle(sqlite_url: str) -> None:
    assert not consent.has_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url)
    phone = consent.record_consent("z1", "+84 912 345 678", [consent.DOSSIER_STATUS, consent.APPOINTMENT_REMINDER],
                                   channel="zalo", source="Có, số của tôi là 0912345678", url=sqlite_url)
    assert phone == "0912345678"
    assert consent.has_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url)
    assert consent.has_consent("z1", consent.DOSSIER_STATUS, "0912 345 678", url=sqlite_url)
    assert not consent.has_consent("z1", consent.DOSSIER_STATUS, "0987654321", url=sqlite_url)
    assert not consent.has_consent("z1", consent.CALLBACK_SCHEDULED, url=sqlite_url)
    assert not consent.has_consent("z2", consent.DOSSIER_STATUS, url=sqlite_url)
    record = consent.get_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url)
    assert record is not None and record.channel == "zalo" and "0912345678" not in (record.source or "")
    assert record.given_at.tzinfo is not None

    assert consent.withdraw_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url) == 1
    assert consent.withdraw_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url) == 0
    assert not consent.has_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url)
    assert consent.consented_phone("z1", consent.APPOINTMENT_REMINDER, url=sqlite_url) == "0912345678"
    withdrawn = consent.get_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url)
    assert withdrawn is not None and withdrawn.withdrawn_at is not None  # the record of consent stays

    # agreeing again, with another number, lifts the withdrawal and replaces the number
    later = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    consent.record_consent("z1", "0987654321", consent.DOSSIER_STATUS, now=later, url=sqlite_url)
    assert consent.consented_phone("z1", consent.DOSSIER_STATUS, url=sqlite_url) == "0987654321"
    assert consent.get_consent("z1", consent.DOSSIER_STATUS, url=sqlite_url).given_at == later
    assert consent.withdraw_consent("z1", url=sqlite_url) == 2  # every purpose
    assert consent.forget("z1", url=sqlite_url) == 2 and consent.get_consent("z1", "dossier_status", sqlite_url) is None


def test_consent_rejects_bad_input(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="phone"):
        consent.record_consent("z1", "12345", consent.DOSSIER_STATUS, url=sqlite_url)
    with pytest.raises(ValueError, match="purpose"):
        consent.record_consent("z1", "0912345678", "marketing", url=sqlite_url)
    with pytest.raises(ValueError, match="purpose"):
        consent.has_consent("z1", "marketing", url=sqlite_url)


def test_shipped_registry_loads_and_reads_ids_from_the_environment() -> None:
    registry = load_registry(DEFAULT_PATH, env={"ZNS_TEMPLATE_APPOINTMENT_REMINDER": "123456"})
    assert set(registry.templates) == {"appointment_reminder", "dossier_status", "callback_scheduled"}
    reminder = registry.get("appointment_reminder")
    assert reminder.template_id == "123456" and "<booking_code>" in reminder.sample
    with pytest.raises(TemplateNotRegistered, match="dossier_status has no template_id"):
        registry.get("dossier_status")  # not approved yet: skipped at send time
    data = reminder.render({"customer_name": "Nguyễn Văn An" * 5, "booking_code": "LH-ABC123",
                            "appointment_date": "03/03/2027", "appointment_time": "09:00", "office_name": "UBND"})
    assert len(data["customer_name"]) == 30 and data["booking_code"] == "LH-ABC123"
    with pytest.raises(TemplateDataMissing, match="booking_code"):
        reminder.render({"customer_name": "An", "booking_code": " ", "appointment_date": "03/03/2027",
                         "appointment_time": "09:00", "office_name": "UBND"})


@pytest.mark.parametrize("data, message", [
    ({"templates": {"marketing": {"template_id": "1", "params": {"a": "b"}}}}, "unknown purpose"),
    ({"templates": {"dossier_status": {"template_id": "abc", "params": {"a": "dossier_code"}}}}, "digits"),
    ({"templates": {"dossier_status": {"template_id": "1", "params": {}}}}, "params must map"),
    ({"templates": {"dossier_status": {"template_id": "1", "params": {"name": "applicant_phone"}}}},
     "unknown field 'applicant_phone'"),
    ({"templates": {"dossier_status": {"template_id": "1", "params": {"x y": "dossier_code"}}}}, "parameter name"),
    ({"templates": {"dossier_status": {"template_id": "1",
                                       "params": {"c": {"field": "dossier_code", "max_length": 0}}}}}, "max_length"),
    ({"templates": ["dossier_status"]}, "expected a mapping"),
])
def test_registry_errors_are_clear(data: object, message: str) -> None:
    with pytest.raises(TemplateConfigError, match=message):
        parse_registry(data, "zns_templates.yml", env={})


def test_registry_file_problems(tmp_path: Path) -> None:
    with pytest.raises(TemplateConfigError, match="cannot read"):
        load_registry(tmp_path / "missing.yml", env={})
    bad = tmp_path / "bad.yml"
    bad.write_text("templates: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateConfigError, match="not valid YAML"):
        load_registry(bad, env={})
    empty = tmp_path / "empty.yml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(TemplateNotRegistered, match="no ZNS template for dossier_status"):
        load_registry(env={"ZNS_TEMPLATES_PATH": str(empty)}).get("dossier_status")
