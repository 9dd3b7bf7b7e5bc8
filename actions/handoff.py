"""Hand-off to an officer: record it, tell the citizen when officers work, pause the bot.

Officers normally work in the staff console (python -m knowledge.console); the same steps from a shell:
  python -m actions.handoff list [--all]
  python -m actions.handoff take SENDER --officer NAME
  python -m actions.handoff resume SENDER      (closes the hand-off; needs the Rasa server's --enable-api)
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import db
from actions.handoff_records import _mask, record_handoff  # noqa: F401  (the console uses both)
from actions.hours import describe_next_opening, hours_text, now_local

MAX_FALLBACKS_BEFORE_HANDOFF = 2


def list_handoffs(include_closed: bool = False) -> List[Dict[str, Any]]:
    """Hand-offs for staff, newest first."""
    query = sa.select(db.handoffs).order_by(db.handoffs.c.created_at.desc())
    if not include_closed:
        query = query.where(db.handoffs.c.status != "closed")
    with db.get_engine().connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def set_status(sender_id: str, status: str, officer: Optional[str] = None) -> int:
    """Mark the open hand-off of ``sender_id`` taken or closed; return the number of rows changed."""
    values: Dict[str, Any] = {"status": status, "updated_at": dt.datetime.now(dt.timezone.utc)}
    if officer:
        values["officer"] = officer
    with db.get_engine().begin() as conn:
        return conn.execute(
            db.handoffs.update()
            .where(db.handoffs.c.sender_id == sender_id, db.handoffs.c.status != "closed")
            .values(**values)
        ).rowcount


def handoff_message(moment: Optional[dt.datetime] = None) -> str:
    """What the citizen is told when the conversation goes to an officer."""
    moment = moment or now_local()
    when = describe_next_opening(moment)
    return (
        "Tôi đã chuyển cuộc trò chuyện cho cán bộ một cửa. Cán bộ làm việc " + hours_text() + "; "
        f"cán bộ sẽ trả lời anh/chị {when}. Trong thời gian chờ, tôi tạm dừng trả lời tự động. "
        "Anh/chị cứ nhắn nội dung cần hỏi, cán bộ sẽ đọc được."
    )


def callback_offer_message(moment: Optional[dt.datetime] = None) -> str:
    """Out of working hours: the hand-off is recorded and a call-back number is asked for."""
    moment = moment or now_local()
    return (
        "Tôi đã chuyển yêu cầu của anh/chị cho cán bộ một cửa. Cán bộ làm việc " + hours_text() + ", nên sẽ liên hệ "
        f"anh/chị {describe_next_opening(moment)}. Anh/chị có thể để lại số điện thoại (và giờ tiện nghe máy) để "
        "cán bộ gọi lại."
    )


class ActionHandoff(Action):
    """Hand the conversation to an officer and pause the bot."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        reason = "fallback" if (tracker.get_slot("fallback_count") or 0) >= MAX_FALLBACKS_BEFORE_HANDOFF \
            else "requested"
        channel = (tracker.get_latest_input_channel() or "rest")
        await db.run_sync(record_handoff, tracker.sender_id, channel, reason,
                          tracker.latest_message.get("text"))
        # A form in progress (e.g. asking a dossier code) ends: the officer takes the conversation from here.
        stop_form = [ActiveLoop(None), SlotSet("requested_slot", None)] if tracker.active_loop_name else []
        from actions import callbacks

        if callbacks.offer_callback(now_local(), str(tracker.latest_message.get("text") or "")):
            # No officer reads it now: offer a call-back and keep answering meanwhile (no pause).
            dispatcher.utter_message(text=callback_offer_message())
            taken = await callbacks.take_callback(dispatcher, tracker)
            return stop_form + [SlotSet("fallback_count", 0.0), SlotSet("callback_pending", None if taken else True)]
        dispatcher.utter_message(text=handoff_message())
        return stop_form + [SlotSet("fallback_count", 0.0), ConversationPaused()]


class ActionFallback(Action):
    """Ask the citizen to rephrase; after repeated misunderstandings offer an officer."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        from actions.conversation import private_details_asked

        if private_details_asked(tracker):
            return [FollowupAction("dossier_proof_form")]  # the applicant's details asked after a lookup
        count = float(tracker.get_slot("fallback_count") or 0) + 1
        if count >= MAX_FALLBACKS_BEFORE_HANDOFF:
            dispatcher.utter_message(
                text="Xin lỗi, tôi vẫn chưa hiểu ý anh/chị. Anh/chị có muốn trao đổi với cán bộ không?",
                buttons=[{"title": "Gặp cán bộ", "payload": "/human_handoff"},
                         {"title": "Hỏi lại", "payload": "/greet"}],
            )
        else:
            dispatcher.utter_message(response="utter_default")
        return [SlotSet("fallback_count", count)]


class ActionResetFallback(Action):
    """Forget earlier misunderstandings once the bot understood something."""

    def name(self) -> Text:
        return "action_reset_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        return [SlotSet("fallback_count", 0.0)] if tracker.get_slot("fallback_count") else []


def queue_reply(sender_id: str, text: str, officer: str) -> int:
    """Store an officer's reply for ``action_officer_reply`` to send; return its id."""
    with db.get_engine().begin() as conn:
        result = conn.execute(db.officer_replies.insert().values(
            sender_id=sender_id, text=text, officer=officer, status="pending",
            created_at=dt.datetime.now(dt.timezone.utc)))
        return int(result.inserted_primary_key[0])


def set_reply_status(reply_id: int, status: str) -> None:
    """Mark a queued reply sent or failed."""
    with db.get_engine().begin() as conn:
        conn.execute(db.officer_replies.update().where(db.officer_replies.c.id == reply_id).values(status=status))


def take_pending_replies(sender_id: str) -> List[Dict[str, Any]]:
    """The officer replies waiting for ``sender_id``, oldest first, marked sent in the same transaction."""
    table = db.officer_replies
    with db.get_engine().begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(table).where(table.c.sender_id == sender_id, table.c.status == "pending")
            .order_by(table.c.id))]
        if rows:
            conn.execute(table.update().where(table.c.id.in_([r["id"] for r in rows])).values(status="sent"))
        return rows


class ActionOfficerReply(Action):
    """Send the officer's queued reply through the conversation's channel (run by the console while paused)."""

    def name(self) -> Text:
        return "action_officer_reply"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        for row in await db.run_sync(take_pending_replies, tracker.sender_id):
            dispatcher.utter_message(text=row["text"])
        return []


async def send_officer_reply(rasa_url: str, sender_id: str, text: str, officer: str,
                             token: Optional[str] = None) -> int:
    """Queue the reply and have Rasa run ``action_officer_reply`` on the conversation's latest input channel.

    Rasa's /execute endpoint runs the action even while the conversation is paused (a triggered intent would not),
    and ``output_channel=latest`` delivers the message through the channel the citizen last wrote from.
    Returns the HTTP status of Rasa's answer (0 when Rasa cannot be reached).
    """
    import aiohttp

    from actions.rasa_api import RasaApi

    reply_id = await db.run_sync(queue_reply, sender_id, text, officer)
    try:
        async with RasaApi(rasa_url, token, timeout=15) as api:
            status = await api.execute(sender_id, "action_officer_reply")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        status = 0
    if status != 200:
        # not delivered: never send it later by surprise with another reply
        await db.run_sync(set_reply_status, reply_id, "failed")
    return status


async def fetch_transcript(rasa_url: str, sender_id: str, token: Optional[str] = None) -> Optional[List[Dict[str, Any]]]:
    """The conversation's messages as [{who: citizen|bot, text, time}] from Rasa's tracker API (None if unreachable)."""
    import aiohttp

    from actions.rasa_api import RasaApi

    try:
        async with RasaApi(rasa_url, token) as api:
            _, tracker = await api.tracker(sender_id)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
        return None
    if tracker is None:
        return None
    out: List[Dict[str, Any]] = []
    for event in tracker.get("events") or []:
        if event.get("event") in ("user", "bot") and (event.get("text") or "").strip():
            out.append({"who": "citizen" if event["event"] == "user" else "bot", "text": event["text"],
                        "time": dt.datetime.fromtimestamp(float(event.get("timestamp") or 0), dt.timezone.utc)})
    return out


async def resume_conversation(rasa_url: str, sender_id: str, token: Optional[str] = None) -> int:
    """Append a `resume` event to the conversation through Rasa's HTTP API; return the HTTP status."""
    from actions.rasa_api import RasaApi

    async with RasaApi(rasa_url, token) as api:
        # action_listen after the resume: without it the next message follows action_handoff in the tracker
        # and no rule matches ("chào bạn" would not get the greeting).
        return await api.append_events(sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])


def main(argv: Optional[List[str]] = None) -> int:
    """Staff command line for hand-offs."""
    parser = argparse.ArgumentParser(prog="python -m actions.handoff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_list = sub.add_parser("list", help="conversations waiting for an officer")
    p_list.add_argument("--all", action="store_true", help="include closed hand-offs")
    p_take = sub.add_parser("take", help="mark a hand-off taken by an officer")
    p_take.add_argument("sender")
    p_take.add_argument("--officer", required=True)
    p_resume = sub.add_parser("resume", help="close the hand-off and give the conversation back to the bot")
    p_resume.add_argument("sender")
    p_resume.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://localhost:5005"))
    args = parser.parse_args(argv)

    if args.cmd == "list":
        for row in list_handoffs(args.all):
            print(json.dumps(row, default=str, ensure_ascii=False))
        return 0
    if args.cmd == "take":
        return 0 if set_status(args.sender, "taken", args.officer) else 1
    status = asyncio.run(resume_conversation(args.rasa_url, args.sender))
    if status != 200:
        print(f"Rasa answered HTTP {status}: is the server running with --enable-api, and RASA_TOKEN set "
              "(or var/rasa_token present)?", file=sys.stderr)
        return 1
    set_status(args.sender, "closed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
