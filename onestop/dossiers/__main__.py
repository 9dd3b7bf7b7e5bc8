"""Demo helper for the embedded dossier store.

python -m onestop.dossiers codes [--per-status N]     # seeded demo codes per status
python -m onestop.dossiers show CODE [--private]      # what the bot would show
python -m onestop.dossiers set-status CODE STATUS     # change a status (to demo notifications)
python -m onestop.dossiers proof CODE                 # demo store only: the 4 digits the bot asks for
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Optional, Sequence

from onestop.dossiers.model import DossierStatus


async def _run(args: argparse.Namespace) -> int:
    from onestop.dossiers.backend import DemoDossierBackend, make_backend
    from onestop.dossiers.model import render_private_vi, render_public_vi
    from onestop.dossiers.seed import demo_codes

    if args.cmd == "codes":
        for status, codes in demo_codes(args.per_status).items():
            print(f"{status:20} {' '.join(codes)}")
        return 0
    backend = make_backend()
    try:
        if args.cmd == "show":
            d = await backend.get(args.code)
            if d is None:
                print("không tìm thấy hồ sơ", file=sys.stderr)
                return 1
            print(render_private_vi(d) if args.private else render_public_vi(d))
            return 0
        if not isinstance(backend, DemoDossierBackend):
            print(
                f"{args.cmd} works on the embedded demo store only (DOSSIER_API_URL is set)", file=sys.stderr
            )
            return 2
        if args.cmd == "proof":  # demo data only: a real backend's applicants' phones are never printed
            d = await backend.get(args.code)
            if d is None:
                print("không tìm thấy hồ sơ", file=sys.stderr)
                return 1
            print(d.applicant_phone[-4:])
            return 0
        d = await backend.set_status(args.code, args.status)
        if d is None:
            print("không tìm thấy hồ sơ", file=sys.stderr)
            return 1
        print(f"{d.code}: {d.status.value} ({d.status_label_vi}) at {d.updated_at.isoformat()}")
        return 0
    finally:
        await backend.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m onestop.dossiers")
    sub = parser.add_subparsers(dest="cmd", required=True)
    codes = sub.add_parser("codes", help="seeded demo codes per status")
    codes.add_argument("--per-status", type=int, default=3)
    show = sub.add_parser("show", help="show a dossier as the bot would")
    show.add_argument("code")
    show.add_argument("--private", action="store_true", help="include the personal details (after proof)")
    setst = sub.add_parser("set-status", help="change a dossier's status (embedded store)")
    setst.add_argument("code")
    setst.add_argument("status", choices=[s.value for s in DossierStatus])
    proof = sub.add_parser("proof", help="demo store only: the last 4 digits of the registered phone")
    proof.add_argument("code")
    from onestop.dossiers.backend import BackendUnavailable

    try:
        return asyncio.run(_run(parser.parse_args(argv)))
    except BackendUnavailable as exc:
        print(f"dossier backend unavailable: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
