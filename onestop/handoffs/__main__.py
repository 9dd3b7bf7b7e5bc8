"""Staff command line for hand-offs (officers normally work in the staff console, python -m console):

  python -m onestop.handoffs list [--all]
  python -m onestop.handoffs take SENDER --officer NAME
  python -m onestop.handoffs resume SENDER      (closes the hand-off; needs the Rasa server's --enable-api)
  python -m onestop.handoffs callbacks          (call-back requests left out of working hours)
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import List, Optional

from onestop.handoffs.callbacks import list_callbacks
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
    args = parser.parse_args(argv)

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
