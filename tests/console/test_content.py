"""Editing: forms round-trip the real files, validation is `python -m knowledge validate`'s with errors on their
fields, every save is a version (compare, revert), and a save from a stale version is refused."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from knowledge import schema
from knowledge.config import PACKAGE_DIR
from console import content, forms, store, yamltext

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize("path", sorted((PACKAGE_DIR / "procedures").glob("*.yml")), ids=lambda p: p.stem)
def test_every_real_procedure_survives_the_form_unchanged(path: Path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    again, problems = forms.procedure_from_form(forms.procedure_form(data), "x", TODAY)
    errors: list = []
    proc = schema.parse_procedure(again, "f", path.stem, errors)
    assert not problems and not errors
    original = schema.parse_procedure(data, "f", path.stem, [])
    # same facts once loaded (empty lists may be left out)
    for name in ("name", "aliases", "examples", "sources", "updated", "codes", "related"):
        assert getattr(proc, name) == getattr(original, name), name
    for name, sec in original.sections().items():
        assert vars(proc.sections()[name]) == vars(sec), name


def test_every_real_office_survives_the_form_unchanged():
    offices = yaml.safe_load((PACKAGE_DIR / "offices.yml").read_text(encoding="utf-8"))["offices"]
    for office in offices:
        again, problems = forms.office_from_form(forms.office_form(office), "x", TODAY)
        assert not problems
        assert {k: v for k, v in again.items() if v not in ("", [], None)} == \
            {k: v for k, v in office.items() if v not in ("", [], None)}, office["id"]


def _form(kb: Path, key: str = "khai_sinh") -> dict:
    return forms.procedure_form(yaml.safe_load((kb / "procedures" / f"{key}.yml").read_text(encoding="utf-8")))


def test_validation_is_the_validate_command_s_with_each_error_on_its_field(console_env):
    kb = console_env["kb"]
    repo = content.Repository(kb)
    form = _form(kb)
    form.update({"aliases": "khai sinh", "official_link": "dichvucong.gov.vn", "fees.status": "verified",
                 "fees.verified_by": "", "related": "khong_co", "documents.items": "- name: Tờ khai\n- count: 1"})
    data, problems = forms.procedure_from_form(form, "Lan", TODAY)
    errors = repo.validate("procedure", "khai_sinh", data)
    fields = errors.by_field
    assert fields["aliases"] == ["Cần ít nhất 3 dòng (hiện có 1)."]
    assert "không phải đường dẫn" in fields["official_link"][0]
    assert fields["fees.verified_by"] == ["Đã xác minh thì phải ghi tên người xác minh."]
    assert "fees.verified_at" in fields
    assert "Không có thủ tục nào mang mã 'khong_co'" in fields["related"][0]
    assert fields["documents.items"] == ["Chưa điền. (documents.items[1].name)"]
    # exactly the command's findings: the same file written to disk gives the same problems
    (kb / "procedures" / "khai_sinh.yml").write_text(yamltext.dump(data), encoding="utf-8")
    assert len(schema.validate(kb)) == errors.count()


def test_a_missing_required_field_and_what_it_breaks_elsewhere(console_env):
    repo = content.Repository(console_env["kb"])
    form = _form(console_env["kb"])
    form["name"] = ""
    data, _ = forms.procedure_from_form(form, "Lan", TODAY)
    fields = repo.validate("procedure", "khai_sinh", data).by_field
    assert fields["name"] == ["Bắt buộc, chưa điền."]
    # an unusable file also breaks the procedures that name it as related: said, not hidden
    assert any("bhyt_tre_em.yml" in m and "khai_sinh" in m for m in fields["_general"])


def test_broken_yaml_in_the_documents_box_is_reported_there(console_env):
    form = _form(console_env["kb"])
    form["documents.items"] = "- name: [Tờ khai"
    _, problems = forms.procedure_from_form(form, "Lan", TODAY)
    assert "Sai cú pháp YAML" in problems.by_field["documents.items"][0]


def test_marking_a_section_verified_records_who_and_when(console_env):
    form = _form(console_env["kb"])
    form["fees.verify_now"] = "1"
    data, _ = forms.procedure_from_form(form, "Nguyễn Thị Lan", TODAY)
    assert data["fees"]["status"] == "verified"
    assert data["fees"]["verified_by"] == "Nguyễn Thị Lan" and data["fees"]["verified_at"] == TODAY
    assert not content.Repository(console_env["kb"]).validate("procedure", "khai_sinh", data)


def test_versions_conflict_diff_and_revert(console_env):
    repo = content.Repository(console_env["kb"])
    item = repo.item("procedure", "khai_sinh")
    assert item.version.number == 1 and item.version.action == "import" and item.published
    data = dict(item.data, name="Đăng ký khai sinh (sửa)")
    v2 = repo.save("procedure", "khai_sinh", data, "Nguyễn Thị Lan", base=1)
    assert v2.number == 2 and v2.published_at is None
    with pytest.raises(store.Conflict) as exc:  # a second officer who also started from version 1
        repo.save("procedure", "khai_sinh", dict(item.data, name="Khai sinh"), "Trần Thu Hoa", base=1)
    assert exc.value.latest.author == "Nguyễn Thị Lan" and exc.value.latest.number == 2
    lines = content.diff(store.get_version("procedure:khai_sinh", 1).content, v2.content)
    assert ("-", "-name: Đăng ký khai sinh") in lines and ("+", "+name: Đăng ký khai sinh (sửa)") in lines
    v3 = repo.revert("procedure", "khai_sinh", 1, "Trần Thu Hoa", base=2)
    assert v3.number == 3 and yamltext.load(v3.content) == item.data
    assert [v.number for v in store.history("procedure:khai_sinh")] == [3, 2, 1]


def test_a_file_changed_outside_the_console_becomes_a_version(console_env):
    repo = content.Repository(console_env["kb"])
    repo.item("procedure", "tam_tru")
    path = console_env["kb"] / "procedures" / "tam_tru.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["name"] = "Đăng ký tạm trú (sửa trong git)"
    path.write_text(yamltext.dump(data), encoding="utf-8")
    item = repo.item("procedure", "tam_tru")
    assert item.version.number == 2 and item.version.note == "tệp được sửa ngoài bảng điều khiển"


async def test_edit_with_an_error_then_save_over_http(editor, console_env):
    page = await (await editor.get("/procedures/khai_sinh")).text()
    base = re.search(r'name="_base" value="(\d+)"', page).group(1)
    form = _form(console_env["kb"])
    form.update({"_csrf": editor.csrf, "_base": base, "name": ""})
    resp = await editor.post("/procedures/khai_sinh", data=form, allow_redirects=False)
    assert resp.status == 422
    html = await resp.text()
    field = re.search(r'<div class="field has-error" data-field="name">.*?</div>', html, re.S).group(0)
    assert "Bắt buộc, chưa điền." in field
    form["name"] = "Đăng ký khai sinh cho trẻ"
    resp = await editor.post("/procedures/khai_sinh", data=form, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/procedures/khai_sinh?ok=saved"
    latest = store.latest("procedure:khai_sinh")
    assert latest.number == 2 and latest.author == "Nguyễn Thị Lan"
    # the published file is unchanged until publishing
    assert "Đăng ký khai sinh cho trẻ" not in (console_env["kb"] / "procedures" / "khai_sinh.yml").read_text()


async def test_the_second_of_two_concurrent_saves_is_refused_with_a_clear_message(editor, app, console_env):
    from aiohttp.test_utils import TestClient, TestServer

    from .helpers import EDITOR2, sign_in

    form = _form(console_env["kb"])
    await editor.get("/procedures/khai_sinh")
    async with TestClient(TestServer(app)) as other:
        other_csrf = await sign_in(other, EDITOR2)
        first = dict(form, _csrf=editor.csrf, _base="1", name="Khai sinh (Lan)")
        second = dict(form, _csrf=other_csrf, _base="1", name="Khai sinh (Hoa)")
        assert (await editor.post("/procedures/khai_sinh", data=first, allow_redirects=False)).status == 302
        resp = await other.post("/procedures/khai_sinh", data=second, allow_redirects=False)
        assert resp.status == 409
        html = await resp.text()
    assert "Thủ tục này vừa được Nguyễn Thị Lan sửa lúc" in html
    assert "Khai sinh (Hoa)" in html  # the officer's typing is kept in the form
    assert yamltext.load(store.latest("procedure:khai_sinh").content)["name"] == "Khai sinh (Lan)"


async def test_create_a_procedure_and_refuse_a_duplicate_key(editor, console_env):
    form = _form(console_env["kb"])
    form.update({"_csrf": editor.csrf, "_base": "", "key": "khai_sinh_ban_sao", "name": "Cấp bản sao khai sinh",
                 "aliases": "bản sao khai sinh\nban sao khai sinh\nxin bản sao giấy khai sinh"})
    form["aliases"] = "bản sao"
    resp = await editor.post("/procedures/new", data=form, allow_redirects=False)
    assert resp.status == 422 and "Cần ít nhất 3 dòng" in await resp.text()
    form["aliases"] = "bản sao khai sinh\nban sao khai sinh\nxin bản sao giấy khai sinh"
    resp = await editor.post("/procedures/new", data=form, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/procedures/khai_sinh_ban_sao?ok=created"
    assert store.latest("procedure:khai_sinh_ban_sao").action == "create"
    form["key"] = "khai_sinh"
    resp = await editor.post("/procedures/new", data=form, allow_redirects=False)
    assert resp.status == 422 and "Đã có thủ tục mã «khai_sinh»" in await resp.text()


async def test_office_edit_errors_on_fields_and_publish_keeps_the_file_s_comments(editor, console_env):
    from console.content import Repository

    kb = console_env["kb"]
    office = yaml.safe_load((kb / "offices.yml").read_text(encoding="utf-8"))["offices"][1]
    form = forms.office_form(office)
    form.update({"_csrf": editor.csrf, "_base": "1", "hours": "mon: 08:00-25:00", "counters": "ba"})
    resp = await editor.post(f"/offices/{office['id']}", data=form, allow_redirects=False)
    assert resp.status == 422
    html = await resp.text()
    assert re.search(r'data-field="hours">.*?không đúng dạng giờ', html, re.S)
    assert re.search(r'data-field="counters">.*?Phải là số nguyên dương', html, re.S)
    form.update({"hours": "mon: 08:00-11:30\nsat: 08:00-11:00", "counters": "4", "phone": "024 3825 0000"})
    resp = await editor.post(f"/offices/{office['id']}", data=form, allow_redirects=False)
    assert resp.status == 302
    written, _ = Repository(kb).publish_files()
    assert written == ["offices.yml"]
    text = (kb / "offices.yml").read_text(encoding="utf-8")
    assert text.startswith("# Các điểm tiếp nhận") and "024 3825 0000" in text
    assert schema.validate(kb) == []
    kb_loaded = schema.load_knowledge_base(kb)
    changed = next(o for o in kb_loaded.offices if o.id == office["id"])
    assert changed.counters == 4 and changed.hours == {"mon": ["08:00-11:30"], "sat": ["08:00-11:00"]}
    assert len(kb_loaded.offices) == len(yaml.safe_load((PACKAGE_DIR / "offices.yml").read_text())["offices"])


async def test_search_lists_with_or_without_diacritics(viewer):
    html = await (await viewer.get("/procedures?q=khai sinh")).text()
    assert "/procedures/khai_sinh" in html and "/procedures/ho_chieu" not in html
    html = await (await viewer.get("/offices?q=hoan kiem")).text()
    assert "phuong_hoan_kiem" in html
    html = await (await viewer.get("/procedures?q=zzzz")).text()
    assert "Không tìm thấy thủ tục nào khớp" in html


def test_a_national_code_can_be_marked_verified_with_who_and_when(console_env):
    form = _form(console_env["kb"])
    form["codes"] = "1.001193 | verified | Nguyễn Thị Lan | 2026-11-25"
    data, _ = forms.procedure_from_form(form, "Lan", TODAY)
    assert data["codes"] == [{"code": "1.001193", "status": "verified", "verified_by": "Nguyễn Thị Lan",
                              "verified_at": dt.date(2026, 11, 25)}]
    assert not content.Repository(console_env["kb"]).validate("procedure", "khai_sinh", data)
    assert forms.procedure_form(data)["codes"] == "1.001193 | verified | Nguyễn Thị Lan | 2026-11-25"
    form["codes"] = "1.001193 | verified"
    data, _ = forms.procedure_from_form(form, "Lan", TODAY)
    assert "codes" in content.Repository(console_env["kb"]).validate("procedure", "khai_sinh", data).by_field


async def test_create_an_office_and_publish_it(editor, console_env):
    kb = console_env["kb"]
    form = {"_csrf": editor.csrf, "_base": "", "id": "phuong_thu_nghiem", "name": "UBND phường Thử Nghiệm",
            "kind": "commune", "address": "1 phố Thử, Hà Nội", "phone": "", "lat": "21.03", "lon": "105.85",
            "hours": "mon: 08:00-11:30, 13:30-17:00", "counters": "2", "slot_minutes": "30",
            "receives": "khai_sinh\nkhong_co", "status": "unconfirmed"}
    resp = await editor.post("/offices/new", data=form, allow_redirects=False)
    assert resp.status == 422
    assert re.search(r'data-field="receives">.*?Không có thủ tục nào mang mã &#39;khong_co&#39;', await resp.text(), re.S)
    form["receives"] = "khai_sinh"
    resp = await editor.post("/offices/new", data=form, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/offices/phuong_thu_nghiem?ok=created"
    content.Repository(kb).publish_files()
    offices = {o.id: o for o in schema.load_knowledge_base(kb).offices}
    assert offices["phuong_thu_nghiem"].receives == ["khai_sinh"] and schema.validate(kb) == []
