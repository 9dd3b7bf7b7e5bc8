"""The catalogue importer on our own fixture of national-shaped records: each known defect parsed or flagged."""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from knowledge.__main__ import main
from knowledge.catalogue.parse import (W_BAD_CODE, W_CODE_MISMATCH, W_DOCS_UNPARSED, W_DUPLICATE,
                                       W_FEE_NO_AMOUNT, W_MISSING, W_NOT_JSON, W_TEMPLATE_GLUED,
                                       W_TIME_NO_UNIT, W_WAYS_UNPARSED, parse_documents, parse_record,
                                       parse_ways)
from knowledge.catalogue.store import Catalogue, import_records, save

FIXTURE = Path(__file__).parent / "fixtures" / "catalogue_sample.jsonl"


@pytest.fixture(scope="module")
def imported():
    records, report = import_records(FIXTURE)
    return {r.id: r for r in records}, report


def test_summary_counts_every_kind_of_problem(imported):
    records, report = imported
    assert report.lines == 17 and report.records == 15 and report.skipped == 2
    assert report.parsed_fully == 5
    for kind in (W_NOT_JSON, W_MISSING, W_DUPLICATE, W_TIME_NO_UNIT, W_CODE_MISMATCH, W_BAD_CODE,
                 W_FEE_NO_AMOUNT, W_TEMPLATE_GLUED, W_DOCS_UNPARSED, W_WAYS_UNPARSED):
        assert report.problems.get(kind), kind
    assert "15 record(s) stored, 5 parsed fully, 10 with problems, 2 line(s) skipped" in report.summary()


def test_flattened_ways_table_is_split_into_rows(imported):
    rec = imported[0]["1.900001"]
    assert [(w.way, w.time, w.fee) for w in rec.ways] == [
        ("Trực tiếp", "15 ngày làm việc", "Miễn phí"), ("Trực tuyến", "15 ngày làm việc", "Miễn phí"),
        ("Dịch vụ bưu chính", "15 ngày làm việc", "Miễn phí")]
    assert rec.ways[0].description == "Nộp tại Bộ phận một cửa."
    assert not rec.warnings and not rec.unparsed


def test_amounts_notes_and_currencies():
    ways, left, problems = parse_ways("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tiếp7 Ngày làm việc"
                                      "1,500,000 Việt Nam Đồng(Phí thẩm định (lần đầu))Thêm mô tả")
    assert (ways[0].fee, ways[0].fee_note, ways[0].description) == ("1,500,000 Việt Nam Đồng",
                                                                    "Phí thẩm định (lần đầu)", "Thêm mô tả")
    assert not left and not problems


def test_a_way_name_inside_a_description_does_not_start_a_row():
    ways, _, _ = parse_ways("Hình thức nộpThời gianPhí, lệ phíMô tảTrực tuyến2 NgàyMiễn phíTrực tiếp: nộp tại Sở")
    assert len(ways) == 1 and ways[0].description == "Trực tiếp: nộp tại Sở"


def test_missing_time_unit_and_fee_amount_are_not_guessed(imported):
    recs = imported[0]
    assert all(w.time is None and w.time_raw == "1" for w in recs["1.900003"].ways)
    assert W_TIME_NO_UNIT in recs["1.900003"].warning_kinds
    six = recs["1.900006"]
    assert six.ways[0].fee is None and six.ways[0].time is None
    assert W_FEE_NO_AMOUNT in six.warning_kinds and "cach_thuc_thuc_hien" in six.unparsed
    assert all(w.fee is None for w in recs["1.900007"].ways)   # "Không có thông tin" stands for empty


def test_documents_tables_groups_counts_and_templates(imported):
    docs = imported[0]["1.900002"].documents
    assert [(d.name, d.count, d.template, d.group) for d in docs] == [
        ("Đơn đề nghị cấp giấy phép", "1 bản chính", "Mẫu 01.docx", "* Trường hợp doanh nghiệp mới"),
        ("Bản sao giấy chứng nhận đăng ký doanh nghiệp", "0 bản chính,1 bản sao", "", "* Trường hợp doanh nghiệp mới"),
        ("Giấy phép đã được cấp", "1 bản chính", "", "* Trường hợp cấp lại")]
    glued = imported[0]["1.900007"]
    assert W_TEMPLATE_GLUED in glued.warning_kinds and glued.documents[0].name.endswith(".docx")
    docs, left, problems = parse_documents("Hồ sơ gồm đơn và bản sao giấy tờ.")
    assert docs == [] and left == "Hồ sơ gồm đơn và bản sao giấy tờ." and problems


def test_agency_fallback_and_missing(imported):
    recs = imported[0]
    assert recs["1.900002"].agency == "Sở Du lịch"          # competent agency empty: the executing one
    assert recs["1.900003"].agency == "" and any(w["field"] == "co_quan" for w in recs["1.900003"].warnings)
    assert recs["1.900009"].levels == ["Cấp tỉnh", "Cấp xã"] and recs["1.900009"].address.startswith("Số 1")


def test_codes_that_disagree_or_are_malformed_or_repeated(imported):
    recs = imported[0]
    assert recs["1.900004"].raw_code == "1.900999" and recs["1.900004"].code == "1.900004"
    bad = next(r for r in recs.values() if r.code == "1.9OO05")
    assert bad.id.startswith("u-") and W_BAD_CODE in bad.warning_kinds
    dup = recs["1.900001-13"]
    assert W_DUPLICATE in dup.warning_kinds and recs["1.900001"].name.endswith("địa phương")
    assert any(w["field"] == "detail_url" for w in recs["1.900011"].warnings)


def test_odd_values_never_raise():
    rec = parse_record({"ma_thu_tuc": None, "ten_thu_tuc": 5, "cach_thuc_thuc_hien": ["x"]})
    assert rec.id == "" and rec.name == "" and {w["kind"] for w in rec.warnings} >= {W_MISSING, W_BAD_CODE}


def test_store_round_trip_and_gzip_input(tmp_path, imported):
    gz = tmp_path / "export.bin"   # gzip is recognised by its content, not its name
    with open(FIXTURE, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    records, report = import_records(gz)
    assert report.records == 15
    save(records, report, tmp_path / "cat")
    loaded = Catalogue.load(tmp_path / "cat")
    assert len(loaded) == 15 and loaded.get("1.900002").to_dict() == imported[0]["1.900002"].to_dict()
    assert loaded.version == report.version and loaded.report()["parsed_fully"] == 5
    assert Catalogue.load(tmp_path / "nothing") is None


def test_cli_import_prints_the_summary(tmp_path, capsys):
    assert main(["import-catalogue", str(FIXTURE), "--no-index", "--catalogue-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "15 record(s) stored" in out and "fee_without_amount" in out and "code_mismatch" in out
    assert main(["import-catalogue", str(tmp_path / "absent.jsonl"), "--catalogue-dir", str(tmp_path)]) == 2
