"""Officers' review pages: try the bot, unanswered questions, publishing."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiohttp import web
from multidict import MultiDictProxy

from infra import db
from knowledge import client as kc
from knowledge.compose import ASPECT_TITLES

from console import store
from console import unanswered as unans
from console.web import EDIT, PUBLISHER, REPO, VIEW, access, officer, render


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
        await db.run_sync(repo.save, "procedure", key, data, officer(request).display_name, item.version.number,
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
    request.app[PUBLISHER].start(officer(request).display_name)
    raise web.HTTPFound("/publish")


@access(VIEW)
async def publish_status(request: web.Request) -> web.Response:
    """Progress of the current or last publish (polled by the page)."""
    job = request.app[PUBLISHER].job
    return web.json_response(job.to_json() if job else {"state": "none"}, headers={"Cache-Control": "no-store"})
