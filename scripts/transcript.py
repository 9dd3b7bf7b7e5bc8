"""Play a scripted conversation against a running bot (REST channel) and print it as a transcript.

Usage: .venv/bin/python scripts/transcript.py --url http://localhost:5005 "chào bạn" "làm giấy khai sinh cần gì" ...
"""
from __future__ import annotations

import argparse
import asyncio
import uuid
from typing import List

import aiohttp


async def play(url: str, sender: str, messages: List[str]) -> List[str]:
    """Send each message in turn and collect the bot's replies as transcript lines."""
    lines: List[str] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for text in messages:
            lines.append(f"👤 {text}")
            async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as resp:
                replies = await resp.json()
            for reply in replies:
                if reply.get("text"):
                    body = reply["text"].replace("\n", "\n   ")
                    lines.append(f"🤖 {body}")
                if reply.get("buttons"):
                    lines.append("   [" + "] [".join(b["title"] for b in reply["buttons"]) + "]")
    return lines


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--sender", default=f"transcript-{uuid.uuid4().hex[:8]}")
    parser.add_argument("messages", nargs="+")
    args = parser.parse_args()
    print("\n".join(asyncio.run(play(args.url, args.sender, args.messages))))


if __name__ == "__main__":
    main()
