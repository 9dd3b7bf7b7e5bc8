"""The YAML text of procedures and offices as the console writes and reads it (the hand-written files' layout)."""
from __future__ import annotations

from typing import Any, Optional

import yaml


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, like the hand-written files ("aliases:\n  - ...")."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def dump(data: Any) -> str:
    """The YAML text of one item as the console writes it (schema order kept, Vietnamese as is)."""
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False,
                     width=100000)


def load(text: Optional[str]) -> Any:
    """Parse stored YAML (None stays None)."""
    return None if text is None else yaml.safe_load(text)
