"""Personal-data masking for anything a connector writes to its logs."""
from __future__ import annotations

from typing import Any


def mask(value: Any) -> str:
    """``value`` as a string with phone and ID numbers masked (nlu.patterns.mask_personal_data)."""
    from nlu.patterns import mask_personal_data  # imported lazily: no work at import time

    text = value if isinstance(value, str) else repr(value)
    try:
        return mask_personal_data(text)
    except Exception:  # masking must never break logging; fall back to hiding every digit run
        import re

        return re.sub(r"\d{4,}", lambda m: "*" * len(m.group()), text)


def short_id(user_id: Any) -> str:
    """A platform user id shortened for logs (ids are not secret, but logs need not hold them whole)."""
    text = str(user_id)
    return text if len(text) <= 6 else f"…{text[-6:]}"
