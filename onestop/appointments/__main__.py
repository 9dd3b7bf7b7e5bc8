"""Officers' command line: ``python -m onestop.appointments day OFFICE_ID YYYY-MM-DD``."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import List, Optional, Sequence

from onestop.appointments import store
from knowledge.offices import get_office
from infra.masking import mask_phone


def format_day(office_id: str, day: dt.date, url: Optional[str] = None) -> List[str]:
    """The lines of one office's day listing (phones masked)."""
    lines = [f"{office_id} {day.isoformat()}"]
    for b in store.list_day(office_id, day, url):
        lines.append(f"{b.slot_start:%H:%M}\t{b.code}\t{b.status}\t{b.full_name}\t{mask_phone(b.phone)}"
                     f"\t{b.procedure_key or '-'}")
    if len(lines) == 1:
        lines.append("(không có lịch hẹn)")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m onestop.appointments")
    sub = parser.add_subparsers(dest="cmd", required=True)
    day_p = sub.add_parser("day", help="list a day's bookings of one office")
    day_p.add_argument("office_id")
    day_p.add_argument("day", help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    try:
        day = dt.date.fromisoformat(args.day)
    except ValueError:
        parser.error(f"not a date YYYY-MM-DD: {args.day}")
    if get_office(args.office_id) is None:
        parser.error(f"unknown office id: {args.office_id}")
    print("\n".join(format_day(args.office_id, day)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
