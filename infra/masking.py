"""The one masking function for personal data in text: phone and ID numbers, wherever text is stored or logged.

Logs (connectors.logsafe), hand-off and unanswered-question records (onestop.handoffs.records, .unanswered), stored
conversation trackers (privacy.tracker_store) and the dossier view (onestop.dossiers.model) all mask through here,
so a phone is masked the same way everywhere: only its first 3 digits (the network prefix) are kept. The ownership
proof asks for the last 4 digits, so no masked phone ever shows one of them.
"""
from __future__ import annotations

import re
from typing import List, Optional

_DIGIT_RUN = re.compile(r"\d{4,}")


def mask_phone(phone: str) -> str:
    """``0912345678`` -> ``091*******``: the prefix only, never any of the last digits."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("84") and len(digits) == 11:  # +84 912 345 678 is 0912 345 678
        digits = "0" + digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 3)


def mask_id_number(value: str) -> str:
    """``001203004567`` -> ``0012********`` (the province and century codes only)."""
    return value[:4] + "*" * max(len(value) - 4, 0)


def mask_text(text: Optional[str], limit: Optional[int] = None) -> Optional[str]:
    """``text`` with every phone and ID number masked (cut to ``limit`` characters); None and "" unchanged."""
    if not text or not isinstance(text, str):
        return text
    try:
        out = _mask_recognised(text)
    except Exception:  # masking must never fail: hide every run of digits instead
        out = _DIGIT_RUN.sub(lambda m: "*" * len(m.group()), text)
    return out[:limit] if limit else out


def _mask_recognised(text: str) -> str:
    """Phones and ID numbers that vntext.patterns recognises in ``text``, masked in place."""
    from vntext.patterns import ID_NUMBER, PHONE, find_pattern_entities  # lazy: the pattern tables load on first use

    out: List[str] = []
    last = 0
    for ent in find_pattern_entities(text):
        if ent.entity == PHONE:
            masked = mask_phone(ent.normalized)
        elif ent.entity == ID_NUMBER:
            masked = mask_id_number(ent.normalized)
        else:
            continue
        out.append(text[last:ent.start])
        out.append(masked)
        last = ent.end
    out.append(text[last:])
    return "".join(out)


def mask_digits(text: Optional[str]) -> Optional[str]:
    """Every digit replaced by ``*`` (for answers such as the 4 proof digits, which match no pattern)."""
    if not text or not isinstance(text, str):
        return text
    return "".join("*" if ch.isdigit() else ch for ch in text)


def user_ref(sender_id: object) -> str:
    """The one way a citizen's platform id appears in logs, statistics and feedback: a short stable hash.

    Stable so that one conversation's lines can be followed and repeated feedback recognised; one-way so that a
    log or an export never holds the id an attacker could message.
    """
    import hashlib

    return "u" + hashlib.sha256(str(sender_id).encode("utf-8")).hexdigest()[:11]
