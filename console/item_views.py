"""Officers' pages for procedures and offices: lists, edit forms, versions, compare, revert."""
from __future__ import annotations

from typing import Any, Dict, Optional

from aiohttp import web

from infra import db

from console import content, forms, store
from console.validation import FieldErrors
from console.web import EDIT, REPO, VIEW, access, form_dict, local_time, not_found, officer, render, today

KINDS = {"procedures": "procedure", "offices": "office"}
KIND_WORDS = {"procedure": ("thủ tục", "Thủ tục"), "office": ("điểm tiếp nhận", "Điểm tiếp nhận")}


def _kind(request: web.Request) -> str:
    return KINDS[request.match_info["kind"]]


def _no_item(request: web.Request, kind: str, key: str) -> web.Response:
    return not_found(request, f"Không có {KIND_WORDS[kind][0]} mã «{key}».")


# ----------------------------------------------------------------------------------------------- lists
def _matches(item: content.Item, query: str) -> bool:
    from vntext.textnorm import fold

    if not query:
        return True
    d = item.data
    hay = " ".join([item.key, str(d.get("name", "")), str(d.get("official_name", "")), str(d.get("address", "")),
                    " ".join(map(str, d.get("aliases") or [])), " ".join(map(str, d.get("old_names") or []))])
    return all(word in fold(hay).lower() for word in fold(query).lower().split())


@access(VIEW)
async def item_list(request: web.Request) -> web.Response:
    """Procedures or offices, searchable (with or without diacritics)."""
    kind = _kind(request)
    query = request.query.get("q", "").strip()
    items = await db.run_sync(request.app[REPO].items, kind)
    shown = [i for i in items if _matches(i, query)]
    return render(request, "list.html", kind=kind, section=request.match_info["kind"], items=shown, q=query,
                  total=len(items), words=KIND_WORDS[kind])


# ----------------------------------------------------------------------------------------------- edit
def form_of(kind: str, data: Dict[str, Any]) -> Dict[str, str]:
    """The form values of a procedure or office mapping."""
    return forms.procedure_form(data) if kind == "procedure" else forms.office_form(data)


def page(request: web.Request, kind: str, form: Dict[str, str], item: Optional[content.Item], *,
          errors: Optional[FieldErrors] = None, status: int = 200, conflict: str = "",
          base: Optional[int] = None) -> web.Response:
    """The edit form of a procedure or office, with problems, conflict message and base version."""
    template = "procedure_form.html" if kind == "procedure" else "office_form.html"
    return render(request, template, status=status, kind=kind, section=f"{kind}s", form=form, item=item,
                  errors=(errors or FieldErrors()).by_field, conflict=conflict,
                  base=base if base is not None else (item.version.number if item and item.version else ""),
                  words=KIND_WORDS[kind], c=forms, statuses=forms.STATUS_LABELS, is_new=item is None)


@access(VIEW)
async def item_page(request: web.Request) -> web.Response:
    """The edit form of one procedure or office (read-only for viewers)."""
    kind, key = _kind(request), request.match_info["key"]
    item = await db.run_sync(request.app[REPO].item, kind, key)
    if item is None:
        return _no_item(request, kind, key)
    return page(request, kind, form_of(kind, item.data), item)


@access(VIEW)
async def new_page(request: web.Request) -> web.Response:
    """An empty form for a new procedure or office."""
    kind = _kind(request)
    blank = {"status": "unconfirmed"} if kind == "office" else {
        sec: {"status": "unconfirmed"} for sec in forms.schema.SECTION_FIELDS
        if sec not in forms.OPTIONAL_SECTIONS}
    if kind == "procedure":
        blank["updated"] = today().isoformat()
    return page(request, kind, form_of(kind, blank), None)


async def _save(request: web.Request, kind: str, key: Optional[str]) -> web.Response:
    """Validate the form like `python -m knowledge validate`, then store a version on top of its base."""
    repo = request.app[REPO]
    user = officer(request)
    form = form_dict(await request.post())
    base_text = form.pop("_base", "")
    base = int(base_text) if base_text.isdigit() else None
    build = forms.procedure_from_form if kind == "procedure" else forms.office_from_form
    data, problems = build(form, user.display_name, today())
    ident = "key" if kind == "procedure" else "id"
    new_key = str(data.get(ident, "")).strip()
    item = await db.run_sync(repo.item, kind, key) if key else None
    if key and item is None:
        return _no_item(request, kind, key)
    if key and new_key != key:
        problems.add(ident, f"Không đổi được mã của {KIND_WORDS[kind][0]} đã có (mã hiện tại: {key}). "
                            f"Muốn đổi, hãy tạo mới rồi ngừng dùng bản cũ.")
    if not key and not new_key:
        problems.add(ident, "Bắt buộc, chưa điền.")
    if not key and new_key and await db.run_sync(repo.item, kind, new_key) is not None:
        problems.add(ident, f"Đã có {KIND_WORDS[kind][0]} mã «{new_key}».")
    if not problems and new_key:
        errors = await db.run_sync(repo.validate, kind, new_key, data)
        for name, messages in errors.by_field.items():
            for m in messages:
                problems.add(name, m)
    if problems:
        return page(request, kind, form, item, errors=problems, status=422, base=base)
    try:
        await db.run_sync(repo.save, kind, new_key, data, user.display_name, base,
                          "edit" if key else "create", form.get("_note", "").strip())
    except store.Conflict as exc:
        newer = exc.latest
        what = KIND_WORDS[kind][1]
        message = (f"{what} này vừa được {newer.author} sửa lúc {local_time(newer.created_at)} (phiên bản "
                   f"{newer.number}); thay đổi của anh/chị chưa được lưu để không ghi đè lên bản của "
                   f"{newer.author}. Anh/chị hãy mở bản mới nhất, xem khác biệt rồi sửa lại.")
        if not key:
            message = f"Đã có {KIND_WORDS[kind][0]} mã «{new_key}» do {newer.author} vừa tạo; chưa lưu."
        return page(request, kind, form, item, status=409, conflict=message, base=base)
    except KeyError:
        return _no_item(request, kind, new_key)
    raise web.HTTPFound(f"/{kind}s/{new_key}?ok={'saved' if key else 'created'}")


@access(EDIT)
async def item_save(request: web.Request) -> web.Response:
    """Save an edited procedure or office."""
    return await _save(request, _kind(request), request.match_info["key"])


@access(EDIT)
async def item_create(request: web.Request) -> web.Response:
    """Create a procedure or office."""
    return await _save(request, _kind(request), None)


# ----------------------------------------------------------------------------------------------- versions
@access(VIEW)
async def item_history(request: web.Request) -> web.Response:
    """Every version with author, time and publication."""
    kind, key = _kind(request), request.match_info["key"]
    item = await db.run_sync(request.app[REPO].item, kind, key)
    if item is None:
        return _no_item(request, kind, key)
    versions = await db.run_sync(store.history, item.doc)
    return render(request, "history.html", kind=kind, section=f"{kind}s", item=item, versions=versions,
                  words=KIND_WORDS[kind])


@access(VIEW)
async def item_diff(request: web.Request) -> web.Response:
    """Version N compared with version N-1."""
    kind, key = _kind(request), request.match_info["key"]
    number = int(request.match_info["number"])
    doc = f"{kind}:{key}"
    new = await db.run_sync(store.get_version, doc, number)
    if new is None:
        return not_found(request, f"Không có phiên bản {number} của «{key}».")
    old = await db.run_sync(store.get_version, doc, number - 1) if number > 1 else None
    latest = await db.run_sync(store.latest, doc)
    return render(request, "diff.html", kind=kind, section=f"{kind}s", key=key, new=new, old=old,
                  lines=content.diff(old.content if old else "", new.content), latest=latest,
                  words=KIND_WORDS[kind])


@access(EDIT)
async def item_revert(request: web.Request) -> web.Response:
    """Make an old version the newest one again."""
    kind, key = _kind(request), request.match_info["key"]
    number = int(request.match_info["number"])
    form = await request.post()
    base = str(form.get("_base", ""))
    if not base.isdigit():
        return render(request, "error.html", status=400, title="Thiếu thông tin",
                      message="Không rõ anh/chị đang xem phiên bản nào. Vui lòng mở lại trang lịch sử.")
    try:
        await db.run_sync(request.app[REPO].revert, kind, key, number, officer(request).display_name, int(base))
    except store.Conflict as exc:
        return render(request, "error.html", status=409, title="Có thay đổi mới",
                      message=f"«{key}» vừa được {exc.latest.author} sửa lúc {local_time(exc.latest.created_at)} "
                              f"(phiên bản {exc.latest.number}); chưa quay lại để không ghi đè. "
                              f"Anh/chị hãy xem lại lịch sử rồi thử lại.")
    except KeyError:
        return not_found(request, f"Không có phiên bản {number} của «{key}».")
    raise web.HTTPFound(f"/{kind}s/{key}/history?ok=reverted")
