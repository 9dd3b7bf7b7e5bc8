"""Staff command line for hand-offs (officers normally work in the staff console, python -m console):

  python -m onestop.handoffs list [--all]
  python -m onestop.handoffs take SENDER --officer NAME
  python -m onestop.handoffs resume SENDER      (closes the hand-off; needs the Rasa server's --enable-api)
  python -m onestop.handoffs callbacks          (call-back requests left out of working hours)
  python -m onestop.handoffs tickets            (open call-back tickets, promised time, overdue ones marked)
  python -m onestop.handoffs close-ticket ID --officer NAME
  python -m onestop.handoffs remind-overdue --once | --interval SECONDS   (WARNING log per overdue ticket)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from typing import List, Optional

from onestop.handoffs.callbacks import close_ticket, list_callbacks, list_open_tickets, remind_overdue
from onestop.handoffs.records import list_handoffs, set_status
from onestop.handoffs.replies import resume_conversation


def main(argv: Optional[List[str]] = None) -> int:
    """Staff command line for hand-offs."""
    parser = argparse.ArgumentParser(prog="python -m onestop.handoffs", description=__doc__,
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
    sub.add_parser("callbacks", help="call-back requests, newest first (numbers in full: officers dial them)")
    sub.add_parser("tickets", help="open call-back tickets, soonest promise first (numbers in full)")
    p_close = sub.add_parser("close-ticket", help="an officer called back: close the ticket")
    p_close.add_argument("ticket_id", type=int)
    p_close.add_argument("--officer", required=True)
    p_remind = sub.add_parser("remind-overdue", help="log a WARNING for each overdue call-back ticket")
    mode = p_remind.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="check once and exit (cron)")
    mode.add_argument("--interval", type=float, help="check every N seconds until stopped")
    args = parser.parse_args(argv)

    if args.cmd == "tickets":
        for t in list_open_tickets():
            print(f"#{t['id']}  {'QUÁ HẠN' if t['overdue'] else 'mở':7}  hẹn {t['promised_at']:%H:%M %d/%m/%Y}  "
                  f"{t['phone']}  {t['name'] or '-'}  {t['note'] or ''}")
        return 0
    if args.cmd == "close-ticket":
        if close_ticket(args.ticket_id, args.officer):
            return 0
        print(f"no open ticket #{args.ticket_id}", file=sys.stderr)
        return 1
    if args.cmd == "remind-overdue":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if args.interval is not None and args.interval <= 0:
            parser.error("--interval must be positive")
        while True:
            reminded = remind_overdue()
            print(f"{len(reminded)} overdue ticket(s) reminded", flush=True)
            if args.once:
                return 0
            time.sleep(args.interval)
    if args.cmd == "list":
        for row in list_handoffs(args.all):
            print(json.dumps(row, default=str, ensure_ascii=False))
        return 0
    if args.cmd == "callbacks":
        for row in list_callbacks():
            print(f"{row['created_at']:%Y-%m-%d %H:%M}  {row['phone']}  {row['name'] or '-'}  {row['note'] or ''}  "
                  f"({row['sender_id']})")
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
