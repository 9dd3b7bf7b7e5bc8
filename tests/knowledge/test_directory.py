"""The office directory generated from the 2025 division data."""
from __future__ import annotations

import yaml

from knowledge import directory
from knowledge.admin_units import find_units, old_names_of, units_of


def test_committed_offices_file_is_what_the_generator_writes() -> None:
    current = directory.OFFICES_FILE.read_text(encoding="utf-8")
    conf = directory.deployment()
    assert directory.generate(current, directory.province_key(), conf["receives"]) == current


def test_generation_keeps_curated_offices_and_covers_every_unit() -> None:
    curated = ("offices:\n  - id: phuong_phu_dien\n    name: UBND phường Phú Diễn\n    kind: commune\n"
               "    address: 1 Đường Thử\n    receives: [all_commune]\n    status: verified\n")
    text = directory.generate(curated, "thanhphohanoi", {"commune": ["all_commune"], "commune_police": ["tam_tru"]})
    offices = yaml.safe_load(text)["offices"]
    ids = [o["id"] for o in offices]
    assert ids.count("phuong_phu_dien") == 1 and offices[0]["address"] == "1 Đường Thử"   # the officers' version
    assert len(ids) == 1 + 2 * 126 - 1 and "cong_an_phuong_phu_dien" in ids
    generated = next(o for o in offices if o["id"] == "xa_bat_bat")
    assert generated["status"] == "unconfirmed" and "address" in generated["unconfirmed"]
    assert "xã Sơn Đà huyện Ba Vì" in generated["old_names"]
    # Regenerating what was generated changes nothing.
    assert directory.generate(text, "thanhphohanoi", {"commune": ["all_commune"],
                                                      "commune_police": ["tam_tru"]}) == text


def test_another_province_is_data_not_code() -> None:
    units = units_of("thanhphohochiminh")
    assert len(units) > 100 and any(u.name == "Phường Bến Thành" for u in units)
    assert old_names_of("thanhphohochiminh")[next(u for u in units if u.name == "Phường Bến Thành")]


def test_place_words_without_a_kind_word_count_only_in_the_province() -> None:
    assert [m.said for m in find_units("ở Cầu Giấy", "thanhphohanoi")] == ["Phường Cầu Giấy"]
    assert find_units("ở xa quá", "thanhphohanoi") == [] and find_units("phương án khác", "thanhphohanoi") == []
    hong_ha = find_units("phuong hong ha", "thanhphohanoi")   # "hong" is not the shorthand for "không" here
    assert [m.said for m in hong_ha] == ["Phường Hồng Hà"]
