"""Finding the office: by name (old names, no diacritics), by position, by procedure."""
from __future__ import annotations

from knowledge.geo import haversine_km
from knowledge.offices import find_office, get_office, nearest_office, offices_for_procedure, redirect_for


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
    police = [o.id for o in offices_for_procedure("cap_can_cuoc")]
    assert "cong_an_phuong_yen_hoa" in police and all(o.startswith("cong_an_") for o in police)
    commune = {o.id for o in offices_for_procedure("khai_sinh")}
    assert "phuong_yen_hoa" in commune and "cong_an_phuong_yen_hoa" not in commune
    yen_hoa = get_office("phuong_yen_hoa")
    assert redirect_for(yen_hoa, "khai_sinh") is None
    assert [o.id for o in redirect_for(yen_hoa, "cap_can_cuoc")][0] == "cong_an_phuong_yen_hoa"  # its own unit first
    assert offices_for_procedure("no_such_procedure") == []


def test_directory_covers_every_unit_of_the_province() -> None:
    from knowledge.admin_units import units_of

    units = units_of("thanhphohanoi")
    assert len(units) == 126
    for unit in units:
        assert get_office(unit.slug) is not None and get_office("cong_an_" + unit.slug) is not None
    assert get_office("hcc_ha_noi") is not None
    generated = get_office("xa_bat_bat")
    assert generated.name == "UBND xã Bất Bạt" and generated.hours["mon"]  # default calendar filled in
    assert {"address", "phone", "hours", "counters", "coordinates"} <= set(generated.unconfirmed)


def test_resolve_place_current_old_and_other_province() -> None:
    from knowledge.offices import CHOOSE, FOUND, OTHER_PROVINCE, resolve_place

    assert resolve_place("o xa bat bat").office.id == "xa_bat_bat"              # no diacritics
    assert resolve_place("công an phường Phú Diễn").office.id == "cong_an_phuong_phu_dien"
    assert resolve_place("phường Hoàn Kiếm", "cap_can_cuoc").office.id == "cong_an_phuong_hoan_kiem"
    split = resolve_place("phường Dịch Vọng Hậu")                                 # divided in 2025
    assert split.status == CHOOSE and {o.id for o in split.candidates} == {"phuong_cau_giay", "phuong_nghia_do"}
    district = resolve_place("quận Long Biên")                                  # district abolished in 2025
    assert district.status == CHOOSE and "phuong_bo_de" in {o.id for o in district.candidates}
    assert resolve_place("phường Long Biên").status == FOUND
    other = resolve_place("phường Bến Thành")
    assert other.status == OTHER_PROVINCE and other.province == "Hồ Chí Minh"
    assert resolve_place("ok").status != FOUND and resolve_place("ừ").status != FOUND
