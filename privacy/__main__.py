"""Staff commands for personal data: ``python -m privacy {erase,retention}`` (docs/security.md)."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m privacy", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_erase = sub.add_parser("erase", help="erase one citizen's data everywhere (conversation id)")
    p_erase.add_argument("sender", help="the conversation id: Zalo / Messenger user id, or rest:<id>")
    p_erase.add_argument("--rasa-url", default=None, help="default RASA_URL (token: RASA_TOKEN or var/rasa_token)")
    p_ret = sub.add_parser("retention", help="erase personal data older than TRACKER_RETENTION_DAYS (90)")
    p_ret.add_argument("--days", type=float, default=None)
    args = parser.parse_args(argv)
    if args.cmd == "erase":
        from privacy.erase import erase

        counts = asyncio.run(erase(args.sender, args.rasa_url))
    else:
        from privacy.retention import run

        counts = asyncio.run(run(args.days))
    print(json.dumps(counts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
