"""The office form keeps the generated offices' "unconfirmed" marker until an officer gives the real value."""
from __future__ import annotations

import datetime as dt

from console.forms import office_form, office_from_form
from knowledge.offices import get_office


def test_generated_office_round_trips_and_typed_facts_are_confirmed() -> None:
    raw = {"id": "xa_bat_bat", "name": "UBND xã Bất Bạt", "kind": "commune", "aliases": ["xã Bất Bạt"],
           "receives": ["all_commune"], "status": "unconfirmed",
           "unconfirmed": ["address", "phone", "hours", "counters", "coordinates"]}
    form = office_form(raw)
    assert form["unconfirmed"].split("\n") == raw["unconfirmed"]
    data, _ = office_from_form(form, "lan", dt.date(2026, 12, 2))
    assert data["unconfirmed"] == raw["unconfirmed"]
    form.update(address="Số 1 đường Thử, xã Bất Bạt", phone="024 0000 0000")
    data, _ = office_from_form(form, "lan", dt.date(2026, 12, 2))
    assert data["unconfirmed"] == ["hours", "counters", "coordinates"]
    data, _ = office_from_form(dict(form, verify_now="1"), "lan", dt.date(2026, 12, 2))
    assert "unconfirmed" not in data and data["status"] == "verified"


def test_the_loader_fills_defaults_and_marks_them() -> None:
    office = get_office("cong_an_xa_bat_bat")
    assert office.address.startswith("Trụ sở Công an xã Bất Bạt, Hà Nội") and office.counters == 2
    assert office.unconfirmed == ["address", "phone", "hours", "counters", "coordinates"]
