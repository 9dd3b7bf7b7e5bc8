"""Finding the office: by name (old names, no diacritics), by position, by procedure."""
from __future__ import annotations

from actions.appointments.offices import (find_office, get_office, haversine_km, nearest_office,
                                          offices_for_procedure, redirect_for)


def test_find_office_by_name() -> None:
    assert find_office("UBND phường Ba Đình").id == "phuong_ba_dinh"
    assert find_office("phuong truc bach").id == "phuong_ba_dinh"    # old ward name, no diacritics
    assert find_office("phường Hàng Bạc").id == "phuong_hoan_kiem"
    assert find_office("xa dong anh").id == "xa_dong_anh"
    assert find_office("ủy ban phường") is None
    assert find_office("") is None


def test_nearest_office() -> None:
    assert round(haversine_km(21.0, 105.8, 21.0, 105.8), 6) == 0
    assert 110 < haversine_km(21.0, 105.8, 22.0, 105.8) < 112
    assert nearest_office(21.0290, 105.8500).id == "phuong_hoan_kiem"
    assert nearest_office(21.14, 105.85).id == "xa_dong_anh"
    assert nearest_office(21.0213, 105.7930, "cap_can_cuoc").id == "cong_an_phuong_yen_hoa"


def test_offices_for_procedure_and_redirect() -> None:
    assert [o.id for o in offices_for_procedure("cap_can_cuoc")] == ["cong_an_phuong_yen_hoa"]
    commune = {o.id for o in offices_for_procedure("khai_sinh")}
    assert "phuong_yen_hoa" in commune and "cong_an_phuong_yen_hoa" not in commune
    yen_hoa = get_office("phuong_yen_hoa")
    assert redirect_for(yen_hoa, "khai_sinh") is None
    assert [o.id for o in redirect_for(yen_hoa, "cap_can_cuoc")] == ["cong_an_phuong_yen_hoa"]
    assert offices_for_procedure("no_such_procedure") == []
