"""Accounts and sign-in shared by the console tests."""
from __future__ import annotations

import re
from typing import Dict

from aiohttp.test_utils import TestClient

EDITOR = {"username": "lan", "password": "mat-khau-lan-1", "display_name": "Nguyễn Thị Lan", "role": "editor"}
EDITOR2 = {"username": "hoa", "password": "mat-khau-hoa-1", "display_name": "Trần Thu Hoa", "role": "editor"}
VIEWER = {"username": "minh", "password": "mat-khau-minh-1", "display_name": "Lê Văn Minh", "role": "viewer"}
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


async def sign_in(client: TestClient, account: Dict[str, str]) -> str:
    """Sign ``account`` in on ``client``; return the session's CSRF token."""
    page = await (await client.get("/login")).text()
    token = CSRF.search(page).group(1)
    resp = await client.post("/login", data={"username": account["username"], "password": account["password"],
                                             "_csrf": token, "next": "/"}, allow_redirects=False)
    assert resp.status == 302, await resp.text()
    home = await (await client.get("/")).text()
    return CSRF.search(home).group(1)
