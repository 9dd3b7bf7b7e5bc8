"""Officers' hand-off pages: conversations waiting for an officer, take, reply, give back to the bot."""
from __future__ import annotations

from typing import Any, Dict, Optional

from aiohttp import web

from infra import db
from onestop import handoffs
from onestop.handoffs import callbacks

from console.web import EDIT, SETTINGS, VIEW, access, not_found, officer, render


# ----------------------------------------------------------------------------------------------- hand-offs
@access(VIEW)
async def handoff_list(request: web.Request) -> web.Response:
    """Conversations waiting for an officer or taken by one, and the call-back tickets left out of hours."""
    rows = await db.run_sync(handoffs.list_handoffs)
    tickets = await db.run_sync(callbacks.list_open_tickets)
    return render(request, "handoffs.html", section="handoffs", rows=rows, tickets=tickets)


@access(EDIT)
async def ticket_done(request: web.Request) -> web.Response:
    """The officer called the citizen back: the ticket is closed with their name."""
    try:
        ticket_id = int(request.match_info["ticket"])
    except ValueError:
        return not_found(request, "Không có phiếu gọi lại này.")
    if not await db.run_sync(callbacks.close_ticket, ticket_id, officer(request).display_name):
        return not_found(request, "Phiếu gọi lại này không còn mở (có thể cán bộ khác đã gọi).")
    raise web.HTTPFound("/handoffs?ok=called")


async def _open_handoff(sender: str) -> Optional[Dict[str, Any]]:
    rows = await db.run_sync(handoffs.list_handoffs)
    return next((r for r in rows if r["sender_id"] == sender), None)


@access(VIEW)
async def handoff_page(request: web.Request) -> web.Response:
    """One conversation: its transcript from the Rasa server, take / reply / close."""
    sender = request.match_info["sender"]
    row = await _open_handoff(sender)
    if row is None:
        return not_found(request, "Cuộc trò chuyện này không còn chờ cán bộ (có thể đã kết thúc).")
    settings = request.app[SETTINGS]
    transcript = await handoffs.fetch_transcript(settings["rasa_url"], sender, settings["rasa_token"])
    return render(request, "handoff.html", section="handoffs", row=row, transcript=transcript)


@access(EDIT)
async def handoff_take(request: web.Request) -> web.Response:
    """Mark the conversation taken by this officer."""
    sender = request.match_info["sender"]
    if not await db.run_sync(handoffs.set_status, sender, "taken", officer(request).display_name):
        return not_found(request, "Cuộc trò chuyện này không còn chờ cán bộ.")
    raise web.HTTPFound(f"/handoffs/{sender}?ok=taken")


@access(EDIT)
async def handoff_reply(request: web.Request) -> web.Response:
    """Send the officer's text through the conversation's channel."""
    sender = request.match_info["sender"]
    text = str((await request.post()).get("text", "")).strip()
    row = await _open_handoff(sender)
    if row is None:
        return not_found(request, "Cuộc trò chuyện này không còn chờ cán bộ.")
    if not text:
        return render(request, "error.html", status=400, title="Chưa gửi", back=f"/handoffs/{sender}",
                      message="Nội dung trả lời đang trống.")
    if len(text) > 2000:
        return render(request, "error.html", status=400, title="Chưa gửi", back=f"/handoffs/{sender}",
                      message="Nội dung dài quá 2000 ký tự; anh/chị vui lòng chia thành nhiều tin.")
    settings = request.app[SETTINGS]
    name = officer(request).display_name
    if row["status"] == "waiting":
        await db.run_sync(handoffs.set_status, sender, "taken", name)
    status = await handoffs.send_officer_reply(settings["rasa_url"], sender, text, name, settings["rasa_token"])
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
