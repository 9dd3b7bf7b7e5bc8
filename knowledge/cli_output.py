"""What both knowledge command lines print the same way: a composed answer, with its buttons, on the terminal."""
from __future__ import annotations

from typing import Optional, TextIO

from .compose import Answer


def write_answer(out: TextIO, answer: Answer, question: Optional[str] = None, note: Optional[str] = None) -> None:
    """The answer's text and ``[button] [button]`` line; with ``question`` (a batch) headed "? question" and
    followed by a blank line; ``note`` (the verbose details) after the buttons."""
    if question is not None:
        out.write(f"? {question}\n")
    out.write(answer.text + "\n")
    if answer.followups:
        out.write("[" + "] [".join(b["title"] for b in answer.followups) + "]\n")
    if note:
        out.write(note + "\n")
    if question is not None:
        out.write("\n")
