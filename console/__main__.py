"""Command line of the staff console: ``python -m console {adduser,users,serve}``."""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from typing import List, Optional


def cmd_adduser(args: argparse.Namespace) -> int:
    """Create an account, or reset the password and role of an existing one."""
    from console import store

    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            print(f"adduser: the environment variable {args.password_env} is empty or unset", file=sys.stderr)
            return 2
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
        if password != getpass.getpass("Again: "):
            print("adduser: the two passwords differ", file=sys.stderr)
            return 2
    try:
        user = store.add_user(args.name, password, args.role, args.display_name)
    except ValueError as exc:
        print(f"adduser: {exc}", file=sys.stderr)
        return 2
    print(f"account {user.username} ({user.role}) ready")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """List the accounts."""
    from console import store

    for row in store.list_users():
        print(f"{row['username']}\t{row['role']}\t{row['display_name']}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the console's web server."""
    from aiohttp import web

    from knowledge.model_files import quiet_libraries

    from console.app import create_app

    quiet_libraries()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(create_app(), host=args.host, port=args.port, print=lambda *_: None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m console", description="The officers' web console.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("adduser", help="create an account (or reset its password and role)")
    p.add_argument("name", help="user name for signing in")
    p.add_argument("--role", choices=("editor", "viewer"), required=True, help="editor: change and publish; "
                                                                                "viewer: look only")
    p.add_argument("--display-name", help="the name shown in versions (default: the user name)")
    p.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable "
                                                         "instead of prompting")
    p.set_defaults(func=cmd_adduser)
    p = sub.add_parser("users", help="list the accounts")
    p.set_defaults(func=cmd_users)
    p = sub.add_parser("serve", help="run the web console")
    p.add_argument("--host", default=os.environ.get("CONSOLE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8080")))
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
