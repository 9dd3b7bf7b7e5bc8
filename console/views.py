"""The officers' pages: procedures and offices (edit, versions, compare, revert), try the bot, unanswered
questions, publish, hand-offs."""
from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

from aiohttp import web
from multidict import MultiDictProxy

from infra import clock, db
from onestop import handoffs
from knowledge import client as kc
from knowledge.compose import ASPECT_TITLES

from console import content, store
from console import unanswered as unans
from console.web import EDIT, PUBLISHER, REPO, SETTINGS, VIEW, access, local_time, render

KINDS = {"procedures": "procedure", "offices": "office"}
KIND_WORDS = {"procedure": ("thủ tục", "Thủ tục"), "office": ("điểm tiếp nhận", "Điểm tiếp nhận")}


def _user(request: web.Request) -> store.User:
    return request["session"]["user"]


def _kind(request: web.Request) -> str:
    return KINDS[request.match_info["kind"]]


def _today() -> dt.date:
    return clock.now_local().date()


def _form_dict(form: MultiDictProxy) -> Dict[str, str]:
    return {k: str(v) for k, v in form.items() if k != "_csrf"}


def _not_found(request: web.Request, what: str) -> web.Response:
    return render(request, "error.html", status=404, title="Không tìm thấy", message=what)


def _no_item(request: web.Request, kind: str, key: str) -> web.Response:
    return _not_found(request, f"Không có {KIND_WORDS[kind][0]} mã «{key}».")


# ----------------------------------------------------------------------------------------------- home
@access(VIEW)
async def home(request: web.Request) -> web.Response:
    """Overview: drafts waiting for publishing, open hand-offs, unanswered groups."""
    repo = request.app[REPO]

    def gather() -> Dict[str, Any]:
        repo.sync()
        return {"drafts": store.unpublished(), "handoffs": handoffs.list_handoffs(),
                "groups": unans.open_groups()}

    data = await db.run_sync(gather)
    return render(request, "home.html", **data)


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
def _form_of(kind: str, data: Dict[str, Any]) -> Dict[str, str]:
    return content.procedure_form(data) if kind == "procedure" else content.office_form(data)


def _page(request: web.Request, kind: str, form: Dict[str, str], item: Optional[content.Item], *,
          errors: Optional[content.FieldErrors] = None, status: int = 200, conflict: str = "",
          base: Optional[int] = None) -> web.Response:
    template = "procedure_form.html" if kind == "procedure" else "office_form.html"
    return render(request, template, status=status, kind=kind, section=f"{kind}s", form=form, item=item,
                  errors=(errors or content.FieldErrors()).by_field, conflict=conflict,
                  base=base if base is not None else (item.version.number if item and item.version else ""),
                  words=KIND_WORDS[kind], c=content, statuses=content.STATUS_LABELS, is_new=item is None)


@access(VIEW)
async def item_page(request: web.Request) -> web.Response:
    """The edit form of one procedure or office (read-only for viewers)."""
    kind, key = _kind(request), request.match_info["key"]
    item = await db.run_sync(request.app[REPO].item, kind, key)
    if item is None:
        return _no_item(request, kind, key)
    return _page(request, kind, _form_of(kind, item.data), item)


@access(VIEW)
async def new_page(request: web.Request) -> web.Response:
    """An empty form for a new procedure or office."""
    kind = _kind(request)
    blank = {"status": "unconfirmed"} if kind == "office" else {
        sec: {"status": "unconfirmed"} for sec in content.schema.SECTION_FIELDS
        if sec not in content.OPTIONAL_SECTIONS}
    if kind == "procedure":
        blank["updated"] = _today().isoformat()
    return _page(request, kind, _form_of(kind, blank), None)


async def _save(request: web.Request, kind: str, key: Optional[str]) -> web.Response:
    """Validate the form like `python -m knowledge validate`, then store a version on top of its base."""
    repo = request.app[REPO]
    user = _user(request)
    form = _form_dict(await request.post())
    base_text = form.pop("_base", "")
    base = int(base_text) if base_text.isdigit() else None
    build = content.procedure_from_form if kind == "procedure" else content.office_from_form
    data, problems = build(form, user.display_name, _today())
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
        return _page(request, kind, form, item, errors=problems, status=422, base=base)
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
        return _page(request, kind, form, item, status=409, conflict=message, base=base)
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
        return _not_found(request, f"Không có phiên bản {number} của «{key}».")
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
        await db.run_sync(request.app[REPO].revert, kind, key, number, _user(request).display_name, int(base))
    except store.Conflict as exc:
        return render(request, "error.html", status=409, title="Có thay đổi mới",
                      message=f"«{key}» vừa được {exc.latest.author} sửa lúc {local_time(exc.latest.created_at)} "
                              f"(phiên bản {exc.latest.number}); chưa quay lại để không ghi đè. "
                              f"Anh/chị hãy xem lại lịch sử rồi thử lại.")
    except KeyError:
        return _not_found(request, f"Không có phiên bản {number} của «{key}».")
    raise web.HTTPFound(f"/{kind}s/{key}/history?ok=reverted")


# ----------------------------------------------------------------------------------------------- try the bot
async def bot_answer(question: str) -> Dict[str, Any]:
    """What the bot would answer to a first message (the same knowledge.answering as the bot's action) plus the
    search details behind it. Officers' trial questions are not recorded as unanswered."""
    from knowledge.answering import Question, answer

    outcome = await kc.search(question)
    reply = await answer(Question(text=question))
    return {"outcome": outcome, "messages": [{"buttons": [], **m} for m in reply.messages]}


@access(VIEW)
async def try_bot(request: web.Request) -> web.Response:
    """Type a citizen's question; see the answer, the procedures found, their scores and the aspect."""
    question = request.query.get("q", "").strip()
    result: Optional[Dict[str, Any]] = None
    error = ""
    if len(question) > 500:
        error = "Câu hỏi dài quá 500 ký tự; anh/chị vui lòng rút gọn."
    elif question:
        try:
            result = await bot_answer(question)
        except kc.SearchUnavailable as exc:
            error = f"Chưa tra cứu được: chỉ mục tìm kiếm chưa sẵn sàng ({exc})."
    return render(request, "try.html", section="try", q=question, result=result, error=error,
                  aspects=ASPECT_TITLES)


# ----------------------------------------------------------------------------------------------- unanswered
@access(VIEW)
async def unanswered_page(request: web.Request) -> web.Response:
    """Groups of similar unanswered questions, most frequent first."""
    groups = await db.run_sync(unans.open_groups)
    items = await db.run_sync(request.app[REPO].items, "procedure")
    return render(request, "unanswered.html", section="unanswered", groups=groups,
                  procedures=[(i.key, i.data.get("name", i.key)) for i in items])


def _ids(form: MultiDictProxy) -> List[int]:
    return [int(x) for x in str(form.get("ids", "")).split(",") if x.strip().isdigit()]


@access(EDIT)
async def unanswered_attach(request: web.Request) -> web.Response:
    """Add a group's wording to a procedure's aliases or examples (a new version), and close the group."""
    form = await request.post()
    ids, key = _ids(form), str(form.get("procedure", ""))
    target = str(form.get("as", "example"))
    text = " ".join(str(form.get("text", "")).split())
    repo = request.app[REPO]
    problem = ""
    if not ids:
        problem = "Không rõ nhóm câu hỏi nào; anh/chị vui lòng tải lại trang."
    elif target not in ("alias", "example"):
        problem = "Chọn gắn làm «cách gọi» hoặc «câu hỏi mẫu»."
    elif not text:
        problem = "Câu hỏi để gắn không được để trống."
    item = await db.run_sync(repo.item, "procedure", key) if key else None
    if not problem and item is None:
        problem = "Anh/chị vui lòng chọn thủ tục để gắn."
    if problem:
        return render(request, "error.html", status=400, title="Chưa gắn được", message=problem,
                      back="/unanswered")
    field = "aliases" if target == "alias" else "examples"
    data = dict(item.data)
    values = list(data.get(field) or [])
    if text not in values:
        values.append(text)
    data[field] = values
    errors = await db.run_sync(repo.validate, "procedure", key, data)
    if errors:
        message = "; ".join(m for ms in errors.by_field.values() for m in ms)
        return render(request, "error.html", status=422, title="Chưa gắn được",
                      message=f"Thủ tục «{key}» sẽ không hợp lệ sau khi gắn: {message}", back="/unanswered")
    try:
        await db.run_sync(repo.save, "procedure", key, data, _user(request).display_name, item.version.number,
                          "attach", f"gắn {len(ids)} câu hỏi chưa trả lời làm "
                          f"{'cách gọi' if target == 'alias' else 'câu hỏi mẫu'}")
    except store.Conflict as exc:
        return render(request, "error.html", status=409, title="Có thay đổi mới",
                      message=f"Thủ tục vừa được {exc.latest.author} sửa; anh/chị vui lòng thử gắn lại.",
                      back="/unanswered")
    await db.run_sync(unans.set_status, ids, "attached")
    raise web.HTTPFound("/unanswered?ok=attached")


@access(EDIT)
async def unanswered_dismiss(request: web.Request) -> web.Response:
    """Close a group without changing the knowledge base."""
    ids = _ids(await request.post())
    if not ids:
        return render(request, "error.html", status=400, title="Chưa bỏ qua được",
                      message="Không rõ nhóm câu hỏi nào; anh/chị vui lòng tải lại trang.", back="/unanswered")
    await db.run_sync(unans.set_status, ids, "dismissed")
    raise web.HTTPFound("/unanswered?ok=dismissed")


# ----------------------------------------------------------------------------------------------- publish
@access(VIEW)
async def publish_page(request: web.Request) -> web.Response:
    """Drafts waiting for publishing and the progress of the last run."""
    def drafts() -> List[store.Version]:
        request.app[REPO].sync()
        return store.unpublished()

    return render(request, "publish.html", section="publish", drafts=await db.run_sync(drafts),
                  job=request.app[PUBLISHER].job)


@access(EDIT)
async def publish_start(request: web.Request) -> web.Response:
    """Write the drafts and rebuild the index in the background."""
    request.app[PUBLISHER].start(_user(request).display_name)
    raise web.HTTPFound("/publish")


@access(VIEW)
async def publish_status(request: web.Request) -> web.Response:
    """Progress of the current or last publish (polled by the page)."""
    job = request.app[PUBLISHER].job
    return web.json_response(job.to_json() if job else {"state": "none"}, headers={"Cache-Control": "no-store"})


# ----------------------------------------------------------------------------------------------- hand-offs
@access(VIEW)
async def handoff_list(request: web.Request) -> web.Response:
    """Conversations waiting for an officer or taken by one."""
    rows = await db.run_sync(handoffs.list_handoffs)
    return render(request, "handoffs.html", section="handoffs", rows=rows)


async def _open_handoff(sender: str) -> Optional[Dict[str, Any]]:
    rows = await db.run_sync(handoffs.list_handoffs)
    return next((r for r in rows if r["sender_id"] == sender), None)


@access(VIEW)
async def handoff_page(request: web.Request) -> web.Response:
    """One conversation: its transcript from the Rasa server, take / reply / close."""
    sender = request.match_info["sender"]
    row = await _open_handoff(sender)
    if row is None:
        return _not_found(request, "Cuộc trò chuyện này không còn chờ cán bộ (có thể đã kết thúc).")
    settings = request.app[SETTINGS]
    transcript = await handoffs.fetch_transcript(settings["rasa_url"], sender, settings["rasa_token"])
    return render(request, "handoff.html", section="handoffs", row=row, transcript=transcript)


@access(EDIT)
async def handoff_take(request: web.Request) -> web.Response:
    """Mark the conversation taken by this officer."""
    sender = request.match_info["sender"]
    if not await db.run_sync(handoffs.set_status, sender, "taken", _user(request).display_name):
        return _not_found(request, "Cuộc trò chuyện này không còn chờ cán bộ.")
    raise web.HTTPFound(f"/handoffs/{sender}?ok=taken")


@access(EDIT)
async def handoff_reply(request: web.Request) -> web.Response:
    """Send the officer's text through the conversation's channel."""
    sender = request.match_info["sender"]
    text = str((await request.post()).get("text", "")).strip()
    row = await _open_handoff(sender)
    if row is None:
        return _not_found(request, "Cuộc trò chuyện này không còn chờ cán bộ.")
    if not text:
        return render(request, "error.html", status=400, title="Chưa gửi", back=f"/handoffs/{sender}",
                      message="Nội dung trả lời đang trống.")
    if len(text) > 2000:
        return render(request, "error.html", status=400, title="Chưa gửi", back=f"/handoffs/{sender}",
                      message="Nội dung dài quá 2000 ký tự; anh/chị vui lòng chia thành nhiều tin.")
    settings = request.app[SETTINGS]
    officer = _user(request).display_name
    if row["status"] == "waiting":
        await db.run_sync(handoffs.set_status, sender, "taken", officer)
    status = await handoffs.send_officer_reply(settings["rasa_url"], sender, text, officer, settings["rasa_token"])
    if status != 200:
        return render(request, "error.html", status=502, title="Chưa gửi được", back=f"/handoffs/{sender}",
                      message=f"Máy chủ hội thoại không nhận tin (mã {status or 'không kết nối được'}). "
                              "Tin chưa được gửi; anh/chị vui lòng thử lại sau hoặc báo bộ phận kỹ thuật.")
    raise web.HTTPFound(f"/handoffs/{sender}?ok=sent")


@access(EDIT)
async def handoff_close(request: web.Request) -> web.Response:
    """Give the conversation back to the bot."""
    sender = request.match_info["sender"]
    settings = request.app[SETTINGS]
    status = 0
    try:
        status = await handoffs.resume_conversation(settings["rasa_url"], sender, settings["rasa_token"])
    except Exception:  # an unreachable server is reported below like a refusal
        status = 0
    if status != 200:
        return render(request, "error.html", status=502, title="Chưa kết thúc được", back=f"/handoffs/{sender}",
                      message=f"Máy chủ hội thoại không nhận lệnh (mã {status or 'không kết nối được'}); "
                              "bot vẫn đang tạm dừng với người dân này. Anh/chị vui lòng thử lại.")
    await db.run_sync(handoffs.set_status, sender, "closed")
    raise web.HTTPFound("/handoffs?ok=closed")


# ----------------------------------------------------------------------------------------------- routes
def add_routes(app: web.Application) -> None:
    """Register every page (the auth middleware refuses anything not declared with @access)."""
    r = app.router
    r.add_get("/", home, name="home")
    kinds = "{kind:procedures|offices}"
    r.add_get(f"/{kinds}", item_list)
    r.add_get(f"/{kinds}/new", new_page)
    r.add_post(f"/{kinds}/new", item_create)
    r.add_get(f"/{kinds}/{{key:[a-z0-9_]+}}", item_page)
    r.add_post(f"/{kinds}/{{key:[a-z0-9_]+}}", item_save)
    r.add_get(f"/{kinds}/{{key:[a-z0-9_]+}}/history", item_history)
    r.add_get(f"/{kinds}/{{key:[a-z0-9_]+}}/diff/{{number:[0-9]+}}", item_diff)
    r.add_post(f"/{kinds}/{{key:[a-z0-9_]+}}/revert/{{number:[0-9]+}}", item_revert)
    r.add_get("/try", try_bot)
    r.add_get("/unanswered", unanswered_page)
    r.add_post("/unanswered/attach", unanswered_attach)
    r.add_post("/unanswered/dismiss", unanswered_dismiss)
    r.add_get("/publish", publish_page)
    r.add_post("/publish", publish_start)
    r.add_get("/publish/status", publish_status)
    r.add_get("/handoffs", handoff_list)
    r.add_get("/handoffs/{sender}", handoff_page)
    r.add_post("/handoffs/{sender}/take", handoff_take)
    r.add_post("/handoffs/{sender}/reply", handoff_reply)
    r.add_post("/handoffs/{sender}/close", handoff_close)
