"""Validation helpers every loader shares: the ``file: field: message`` sink, coercion of YAML values, YAML reading."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from knowledge.schema.models import STATUSES


class ErrorSink:
    """Collects ``file: field: message`` lines for one file."""

    def __init__(self, file: str, sink: List[str]):
        self.file = file
        self.sink = sink

    def add(self, path: str, message: str) -> None:
        """Record one problem."""
        self.sink.append(f"{self.file}: {path or '(file)'}: {message}")


def is_text(value: Any) -> bool:
    """True for a text that is not blank."""
    return isinstance(value, str) and bool(value.strip())


def as_text(value: Any) -> str:
    """Scalars as stripped text (YAML may give numbers or dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def date_text(value: Any) -> Optional[str]:
    """YYYY-MM-DD for a YAML date or a valid date string, else None."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return None
    return None


def str_list(value: Any, path: str, err: ErrorSink, *, min_len: int = 0, allow_none: bool = True) -> List[str]:
    """A list of non-empty strings, reporting anything else."""
    if value is None:
        if not allow_none or min_len:
            err.add(path, "missing" if value is None else "must be a list")
        return []
    if not isinstance(value, list):
        err.add(path, "must be a list of texts")
        return []
    out: List[str] = []
    for i, item in enumerate(value):
        if isinstance(item, (str, int, float)) and not isinstance(item, bool) and as_text(item):
            out.append(as_text(item))
        else:
            err.add(f"{path}[{i}]", "must be a non-empty text")
    if len(out) < min_len:
        err.add(path, f"needs at least {min_len} entries, has {len(out)}")
    return out


def read_yaml(path: Path, err: ErrorSink) -> Any:
    """Parse one YAML file, recording syntax errors."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        err.add(where, f"invalid YAML: {getattr(exc, 'problem', None) or exc}")
    except (OSError, UnicodeDecodeError) as exc:
        err.add("(file)", f"cannot read: {exc}")
    return None


def check_status(data: Dict[str, Any], path: str, err: ErrorSink, *, required: bool = True) -> str:
    """Validate status / verified_by / verified_at of a mapping; returns the status."""
    status = data.get("status")
    if status is None:
        if required:
            err.add(f"{path}.status" if path else "status", f"missing (one of {', '.join(STATUSES)})")
        return "unconfirmed"
    if status not in STATUSES:
        err.add(f"{path}.status" if path else "status", f"{status!r} is not one of {', '.join(STATUSES)}")
        return "unconfirmed"
    if status == "verified":
        prefix = f"{path}." if path else ""
        if not is_text(as_text(data.get("verified_by")) or None):
            err.add(f"{prefix}verified_by", "required when status is verified")
        if data.get("verified_at") is None:
            err.add(f"{prefix}verified_at", "required when status is verified (YYYY-MM-DD)")
        elif date_text(data.get("verified_at")) is None:
            err.add(f"{prefix}verified_at", f"{data.get('verified_at')!r} is not a date YYYY-MM-DD")
    return status


def relative_name(path: Path, base: Path) -> str:
    """``path`` relative to ``base``'s parent when possible (readable error prefixes)."""
    try:
        return str(path.relative_to(base.parent))
    except ValueError:
        return str(path)



def read_keyed_list(path: Path, key: str, errors: List[str],
                     base: Optional[Path]) -> Tuple[Optional[ErrorSink], List[Any]]:
    """(error collector, items) of a YAML file holding a list under ``key``; no file means no items."""
    if not path.exists():
        return None, []
    err = ErrorSink(relative_name(path, base or path.parent), errors)
    data = read_yaml(path, err)
    if data is None:
        return err, []
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        err.add(key, f"must be a list under the key '{key}'")
        return err, []
    return err, data[key]
