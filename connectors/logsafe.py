"""Personal-data masking for anything a connector writes to its logs."""
from __future__ import annotations

from typing import Any


def mask(value: Any) -> str:
    """``value`` as a string with phone and ID numbers masked (infra.masking.mask_text)."""
    from infra.masking import mask_text

    return mask_text(value if isinstance(value, str) else repr(value)) or ""


def short_id(user_id: Any) -> str:
    """A platform user id shortened for logs (ids are not secret, but logs need not hold them whole)."""
    text = str(user_id)
    return text if len(text) <= 6 else f"…{text[-6:]}"
