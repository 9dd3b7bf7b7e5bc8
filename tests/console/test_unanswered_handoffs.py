"""Unanswered questions (grouped, masked, attached or dismissed) and hand-offs (take, reply, close)."""
from __future__ import annotations

import sqlalchemy as sa
from rasa_sdk.executor import CollectingDispatcher

from infra import db
from actions.handoff import ActionOfficerReply
from onestop import handoffs
from onestop.handoffs import unanswered
from onestop.handoffs.replies import take_pending_replies
from console import store, yamltext
from console import unanswered as unans

from ..actions.helpers import make_tracker

QUESTIONS = [
    ("zalo-1", "cho hỏi xin giấy chào đời cho con ở đâu", "declined"),
    ("zalo-2", "xin giay chao doi cho con o dau", "declined"),
    ("fb-3", "xin giấy chào đời cho con ở đâu ạ, sđt em 0912345678", "fallback"),
    ("fb-4", "giá vàng hôm nay bao nhiêu", "declined"),
    (unans.TRY_SENDER, "câu thử của cán bộ", "declined"),
]


def _seed() -> None:
    for sender, text, reason in QUESTIONS:
        unanswered.record(sender, text, reason)


def test_questions_are_grouped_counted_and_masked(console_env):
    _seed()
    groups = unans.open_groups()
    assert [g.count for g in groups] == [3, 1]
    top = groups[0]
    assert top.reasons == {"declined": 2, "fallback": 1}
    assert top.text == "cho hỏi xin giấy chào đời cho con ở đâu"  # unmasked, with diacritics
    assert all("0912345678" not in t for t in top.texts)  # masked before it was stored
    assert not any("câu thử" in t for g in groups for t in g.texts)  # try-the-bot questions are not citizens'


async def test_attach_a_group_as_an_alias_then_dismiss_another(editor, console_env):
    _seed()
    groups = unans.open_groups()
    ids = ",".join(map(str, groups[0].ids))
    html = await (await editor.get("/unanswered")).text()
    assert "3 lần" in html and "giá vàng" in html
    resp = await editor.post("/unanswered/attach", data={"_csrf": editor.csrf, "ids": ids, "procedure": "khai_sinh",
                                                         "as": "alias", "text": "giấy chào đời"},
                             allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/unanswered?ok=attached"
    latest = store.latest("procedure:khai_sinh")
    assert latest.action == "attach" and latest.author == "Nguyễn Thị Lan" and latest.published_at is None
    assert "giấy chào đời" in yamltext.load(latest.content)["aliases"]
    resp = await editor.post("/unanswered/dismiss", data={"_csrf": editor.csrf,
                                                          "ids": ",".join(map(str, groups[1].ids))},
                             allow_redirects=False)
    assert resp.status == 302
    assert unans.open_groups() == []
    with db.get_engine().connect() as conn:
        statuses = dict(conn.execute(sa.select(db.unanswered.c.status, sa.func.count())
                                     .group_by(db.unanswered.c.status)).all())
    assert statuses == {"attached": 3, "dismissed": 1, "new": 1}


async def test_attach_without_a_procedure_gets_a_clear_answer(editor, console_env):
    _seed()
    ids = ",".join(map(str, unans.open_groups()[0].ids))
    resp = await editor.post("/unanswered/attach", data={"_csrf": editor.csrf, "ids": ids, "procedure": "",
                                                         "as": "alias", "text": "x"})
    assert resp.status == 400 and "vui lòng chọn thủ tục" in await resp.text()


async def test_officer_reply_is_sent_by_the_action_once(console_env):
    handoffs.queue_reply("zalo-9", "Chào anh, cán bộ Lan đây ạ.", "Nguyễn Thị Lan")
    dispatcher = CollectingDispatcher()
    await ActionOfficerReply().run(dispatcher, make_tracker("", sender_id="zalo-9"), {})
    assert [m["text"] for m in dispatcher.messages] == ["Chào anh, cán bộ Lan đây ạ."]
    again = CollectingDispatcher()
    await ActionOfficerReply().run(again, make_tracker("", sender_id="zalo-9"), {})
    assert again.messages == []


async def test_handoff_pages_take_and_an_unreachable_rasa_server(editor, console_env):
    handoffs.record_handoff("zalo-7", "zalo", "requested", "cho em gặp cán bộ, sđt 0912345678")
    html = await (await editor.get("/handoffs")).text()
    assert "zalo-7" in html and "0912345678" not in html
    html = await (await editor.get("/handoffs/zalo-7")).text()
    assert "Chưa lấy được nội dung cuộc trò chuyện" in html  # the Rasa server of this test is not running
    resp = await editor.post("/handoffs/zalo-7/take", data={"_csrf": editor.csrf}, allow_redirects=False)
    assert resp.status == 302
    assert handoffs.list_handoffs()[0]["officer"] == "Nguyễn Thị Lan"
    resp = await editor.post("/handoffs/zalo-7/reply", data={"_csrf": editor.csrf, "text": "Dạ, em chào anh."})
    assert resp.status == 502 and "Tin chưa được gửi" in await resp.text()
    assert take_pending_replies("zalo-7") == []  # never delivered later by surprise
    resp = await editor.post("/handoffs/zalo-7/reply", data={"_csrf": editor.csrf, "text": "  "})
    assert resp.status == 400 and "đang trống" in await resp.text()
    resp = await editor.post("/handoffs/zalo-7/close", data={"_csrf": editor.csrf})
    assert resp.status == 502 and "bot vẫn đang tạm dừng" in await resp.text()
    assert handoffs.list_handoffs()[0]["status"] == "taken"
    resp = await editor.get("/handoffs/khong-co")
    assert resp.status == 404


async def test_call_back_tickets_are_listed_with_the_number_and_closed_by_an_officer(editor, viewer, console_env):
    from onestop.handoffs import callbacks

    ticket = callbacks.record_callback("zalo-8", "0912345678", "Lê Thị Thu", "gọi sau 9h")
    html = await (await viewer.get("/handoffs")).text()
    assert "0912345678" in html and "Lê Thị Thu" in html and "gọi sau 9h" in html   # officers dial it
    assert "Đã gọi lại" not in html                                                   # a viewer cannot close it
    resp = await viewer.post(f"/tickets/{ticket}/done", data={"_csrf": viewer.csrf}, allow_redirects=False)
    assert resp.status == 403
    resp = await editor.post(f"/tickets/{ticket}/done", data={"_csrf": editor.csrf}, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/handoffs?ok=called"
    assert callbacks.list_open_tickets() == []
    resp = await editor.post(f"/tickets/{ticket}/done", data={"_csrf": editor.csrf})
    assert resp.status == 404 and "không còn mở" in await resp.text()
    html = await (await editor.get("/handoffs")).text()
    assert "0912345678" not in html
