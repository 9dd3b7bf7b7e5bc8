"""Console pages of the national catalogue: list and search, a record's parsed and unparsed fields, promotion to a
draft of curated guidance (unconfirmed) that then follows the usual flow; ids from the URL are checked."""
from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from knowledge.catalogue.store import import_records, save

from .helpers import EDITOR, VIEWER, sign_in

FIXTURE = Path(__file__).parents[1] / "knowledge" / "fixtures" / "catalogue_sample.jsonl"


@pytest.fixture
async def cat_app(console_env, tmp_path, monkeypatch):
    folder = tmp_path / "catalogue"
    records, report = import_records(FIXTURE)
    save(records, report, folder)
    monkeypatch.setenv("KB_CATALOGUE_DIR", str(folder))
    from console.app import create_app

    return create_app(console_env["cfg"], rasa_url="http://127.0.0.1:9", rasa_token=None)


@pytest.fixture
async def cat_editor(cat_app) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(cat_app)) as client:
        client.csrf = await sign_in(client, EDITOR)  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def cat_viewer(cat_app) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(cat_app)) as client:
        client.csrf = await sign_in(client, VIEWER)  # type: ignore[attr-defined]
        yield client


async def test_list_search_and_problem_filter(cat_editor):
    page = await (await cat_editor.get("/catalogue")).text()
    assert "Cơ sở dữ liệu quốc gia (15)" in page and "1.900013" in page
    found = await (await cat_editor.get("/catalogue", params={"q": "khai thac cat soi"})).text()
    assert "1.900013" in found and "1.900002" not in found
    flagged = await (await cat_editor.get("/catalogue", params={"problems": "1"})).text()
    assert "1.900006" in flagged and "1.900013" not in flagged and "lệ phí thiếu số tiền" in flagged


async def test_detail_shows_parsed_and_unparsed_fields(cat_viewer):
    page = await (await cat_viewer.get("/catalogue/1.900006")).text()
    assert "lệ phí thiếu số tiền" in page and "Nguyên văn phần chưa đọc được" in page and "cach_thuc_thuc_hien" in page
    page = await (await cat_viewer.get("/catalogue/1.900004")).text()
    assert "trong trang ghi mã 1.900999" in page
    assert "Tạo hướng dẫn" not in page   # viewers cannot promote


@pytest.mark.parametrize("path", ["/catalogue/9.999999", "/catalogue/..%2F..%2Fetc", "/catalogue/a%00b",
                                  "/catalogue/" + "1" * 60])
async def test_bad_or_unknown_ids_are_404(cat_editor, path):
    resp = await cat_editor.get(path)
    assert resp.status == 404


async def test_promote_creates_an_unconfirmed_draft_once(cat_editor):
    resp = await cat_editor.post("/catalogue/1.900013/promote", data={"_csrf": cat_editor.csrf},
                                 allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/procedures/tthc_1_900013?ok=created"
    form = await (await cat_editor.get("/procedures/tthc_1_900013")).text()
    assert "Cấp giấy phép khai thác cát sỏi lòng sông" in form and "chờ xuất bản" in form
    assert "Đơn đề nghị cấp giấy phép khai thác" in form
    again = await cat_editor.post("/catalogue/1.900013/promote", data={"_csrf": cat_editor.csrf},
                                  allow_redirects=False)
    assert again.status == 302 and again.headers["Location"] == "/procedures/tthc_1_900013"
    page = await (await cat_editor.get("/catalogue/1.900013")).text()
    assert "Đã có hướng dẫn do cán bộ soạn" in page


async def test_promote_needs_an_editor_and_the_form_token(cat_viewer, cat_editor):
    assert (await cat_viewer.post("/catalogue/1.900013/promote", data={"_csrf": cat_viewer.csrf})).status == 403
    assert (await cat_editor.post("/catalogue/1.900013/promote", data={"_csrf": "wrong"})).status == 403


async def test_promoted_draft_validates_like_any_procedure(cat_app):
    import datetime as dt

    from knowledge.catalogue.promote import draft_from_record
    from knowledge.catalogue.store import Catalogue, catalogue_dir
    from console.app import REPO

    cat = Catalogue.load(catalogue_dir())
    for rec in cat.records.values():
        data = draft_from_record(rec, dt.date(2026, 12, 2))
        assert all(sec.get("status") == "unconfirmed" for sec in data.values() if isinstance(sec, dict))
        errors = cat_app[REPO].validate("procedure", data["key"], data)
        assert not errors, (rec.id, errors.by_field)
