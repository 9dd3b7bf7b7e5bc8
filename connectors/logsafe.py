"""Personal-data masking for anything a connector writes to its logs (user ids: infra.masking.user_ref)."""
from __future__ import annotations

from typing import Any


def mask(value: Any) -> str:
    """``value`` as a string with phone and ID numbers masked (infra.masking.mask_text)."""
    from infra.masking import mask_text

    return mask_text(value if isinstance(value, str) else repr(value)) or ""
