"""Officers' pages for the national catalogue tier: list with search, a record's parsed and unparsed fields, and
promotion of a record to a draft of curated guidance (then edited and published through the usual flow)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional, Tuple

from aiohttp import web

from infra import db
from knowledge.catalogue.parse import ID_RE, Record
from knowledge.catalogue.store import RECORDS_FILE, Catalogue, catalogue_dir

from console.web import EDIT, REPO, VIEW, access, render

CATALOGUE = web.AppKey("catalogue", dict)   # {"dir": Path, "stamp": (mtime, size), "catalogue": Catalogue|None}
PAGE_SIZE = 100
WARNING_WORDS = {
    "missing": "thiếu thông tin", "code_mismatch": "mã khác với mã trong trang", "bad_code": "mã sai dạng",
    "ways_unparsed": "không tách được cách thực hiện", "time_without_unit": "thời hạn thiếu đơn vị",
    "fee_without_amount": "lệ phí thiếu số tiền", "documents_unparsed": "không tách được thành phần hồ sơ",
    "template_glued": "tên mẫu đơn dính vào tên giấy tờ", "duplicate": "trùng", "not_json": "dòng hỏng",
}


def _catalogue(app: web.Application) -> Optional[Catalogue]:
    """The imported catalogue, reloaded when a new import replaced the records file."""
    state = app[CATALOGUE]
    path = Path(state["dir"]) / RECORDS_FILE
    try:
        st = os.stat(path)
        stamp: Optional[Tuple[int, int]] = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    if stamp != state.get("stamp"):
        state["catalogue"] = Catalogue.load(state["dir"]) if stamp else None
        state["stamp"] = stamp
    return state.get("catalogue")


def _matches(rec: Record, words: List[str]) -> bool:
    from vntext.textnorm import fold

    hay = fold(f"{rec.code} {rec.name} {rec.field} {rec.agency}").lower()
    return all(w in hay for w in words)


def _record(request: web.Request) -> Tuple[Optional[Catalogue], Optional[Record], str]:
    """(catalogue, record or None, the id asked for); the id is checked before any lookup."""
    rid = request.match_info.get("id", "")
    if not ID_RE.match(rid):
        raise web.HTTPNotFound()
    cat = _catalogue(request.app)
    return cat, (cat.get(rid) if cat else None), rid


@access(VIEW)
async def catalogue_list(request: web.Request) -> web.Response:
    """The catalogue's records, searchable by name, code, field or agency (with or without diacritics)."""
    from vntext.textnorm import fold

    cat = await db.run_sync(_catalogue, request.app)
    query = request.query.get("q", "").strip()[:200]
    problems = request.query.get("problems", "") == "1"
    shown: List[Record] = []
    total = 0
    if cat is not None:
        words = fold(query).lower().split()
        matched = [r for r in cat.records.values() if _matches(r, words) and (not problems or r.warnings)]
        total, shown = len(matched), matched[:PAGE_SIZE]
    return render(request, "catalogue_list.html", section="catalogue", cat=cat, records=shown, total=total,
                  q=query, problems=problems, page_size=PAGE_SIZE, words=WARNING_WORDS,
                  report=cat.report() if cat else {}, folder=str(request.app[CATALOGUE]["dir"]))


@access(VIEW)
async def catalogue_item(request: web.Request) -> web.Response:
    """One record: every parsed field, the warnings and the text that could not be parsed."""
    cat, rec, rid = await db.run_sync(_record, request)
    if rec is None:
        return render(request, "error.html", status=404, title="Không tìm thấy", back="/catalogue",
                      message=f"Không có thủ tục mã «{rid}» trong cơ sở dữ liệu quốc gia đã nhập.")
    from knowledge.catalogue.promote import draft_key

    existing = await db.run_sync(request.app[REPO].item, "procedure", draft_key(rec))
    return render(request, "catalogue_item.html", section="catalogue", rec=rec, words=WARNING_WORDS,
                  draft_key=draft_key(rec), existing=existing)


@access(EDIT)
async def catalogue_promote(request: web.Request) -> web.Response:
    """Create a draft procedure from the record (all sections unconfirmed), or show the pre-filled form to fix."""
    from knowledge.catalogue.promote import draft_from_record

    from console.item_views import form_of, page
    from console.web import today

    cat, rec, rid = await db.run_sync(_record, request)
    if rec is None:
        return render(request, "error.html", status=404, title="Không tìm thấy", back="/catalogue",
                      message=f"Không có thủ tục mã «{rid}» trong cơ sở dữ liệu quốc gia đã nhập.")
    repo = request.app[REPO]
    user = request["session"]["user"]
    data = draft_from_record(rec, today())
    key = data["key"]
    if await db.run_sync(repo.item, "procedure", key) is not None:
        raise web.HTTPFound(f"/procedures/{key}")   # already promoted: open it
    errors = await db.run_sync(repo.validate, "procedure", key, data)
    if errors:
        # the form with the problems marked: the officer completes it and saves through the usual create flow
        return page(request, "procedure", form_of("procedure", data), None, errors=errors,
                           status=422)
    await db.run_sync(repo.save, "procedure", key, data, user.display_name, None, "create",
                      f"Tạo từ Cơ sở dữ liệu quốc gia, mã {rec.code} (chưa xác minh)")
    raise web.HTTPFound(f"/procedures/{key}?ok=created")


def add_routes(app: web.Application) -> None:
    """Register the catalogue pages (ids are checked against ID_RE, length included, in the handlers)."""
    app[CATALOGUE] = {"dir": catalogue_dir(), "stamp": None, "catalogue": None}
    r = app.router
    r.add_get("/catalogue", catalogue_list)
    r.add_get("/catalogue/{id:[0-9A-Za-z][0-9A-Za-z._-]*}", catalogue_item)
    r.add_post("/catalogue/{id:[0-9A-Za-z][0-9A-Za-z._-]*}/promote", catalogue_promote)
