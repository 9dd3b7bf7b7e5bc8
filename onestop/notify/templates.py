"""The ZNS template registry: which Zalo-approved template carries each purpose, and what fills its parameters.

Read from deploy/zns_templates.yml (or ZNS_TEMPLATES_PATH) and checked when loaded: an unknown purpose, a
parameter mapped to a field we cannot fill, or a malformed id is a TemplateConfigError naming the file and key.
A purpose absent from the file, or whose ``template_id`` is empty (not approved yet), is not an error at load:
sending it raises TemplateNotRegistered, which the sender records as skipped.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from infra.db import REPO_ROOT
from onestop.notify.consent import APPOINTMENT_REMINDER, CALLBACK_SCHEDULED, DOSSIER_STATUS

DEFAULT_PATH = REPO_ROOT / "deploy" / "zns_templates.yml"

# What our side can put into a template, per purpose (docs/notifications.md describes each field).
FIELDS: Dict[str, Tuple[str, ...]] = {
    APPOINTMENT_REMINDER: ("customer_name", "booking_code", "appointment_date", "appointment_time",
                           "office_name", "office_address"),
    DOSSIER_STATUS: ("dossier_code", "procedure_name", "status_label", "office_name", "updated_date",
                     "due_date"),
    CALLBACK_SCHEDULED: ("customer_name", "promised_time", "office_name"),
}
_ENV_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_PARAM_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class TemplateConfigError(ValueError):
    """The registry file is wrong (raised at load)."""


class TemplateNotRegistered(LookupError):
    """No approved template for a purpose (recorded as skipped at send time)."""


class TemplateDataMissing(ValueError):
    """A field a template needs has no value for this message."""


@dataclass(frozen=True)
class Param:
    """One template parameter: the field that fills it, cut to ``max_length`` characters when set."""

    name: str
    source: str
    max_length: Optional[int] = None


@dataclass(frozen=True)
class Template:
    """One purpose's approved ZNS template."""

    purpose: str
    template_id: str
    params: Tuple[Param, ...]
    sample: str = ""

    def render(self, values: Mapping[str, Any]) -> Dict[str, str]:
        """The ``template_data`` for ``values``; TemplateDataMissing names the first empty field."""
        data: Dict[str, str] = {}
        for p in self.params:
            value = values.get(p.source)
            text = "" if value is None else str(value).strip()
            if not text:
                raise TemplateDataMissing(f"{self.purpose}: no value for {p.source} (parameter {p.name})")
            data[p.name] = text[:p.max_length] if p.max_length else text
        return data


@dataclass
class TemplateRegistry:
    """Every purpose's template, as loaded from the file."""

    templates: Dict[str, Template] = field(default_factory=dict)
    source: str = "(empty)"

    def get(self, purpose: str) -> Template:
        """The template of ``purpose``; TemplateNotRegistered when there is none or it has no id yet."""
        template = self.templates.get(purpose)
        if template is None:
            raise TemplateNotRegistered(f"no ZNS template for {purpose} in {self.source}")
        if not template.template_id:
            raise TemplateNotRegistered(f"ZNS template for {purpose} has no template_id yet ({self.source})")
        return template


def _expand(value: Any, env: Mapping[str, str]) -> str:
    return _ENV_RE.sub(lambda m: env.get(m.group(1), ""), "" if value is None else str(value)).strip()


def _param(where: str, purpose: str, name: Any, spec: Any) -> Param:
    if not isinstance(name, str) or not _PARAM_RE.match(name):
        raise TemplateConfigError(f"{where}: parameter name {name!r} is not a ZNS parameter name")
    if isinstance(spec, str):
        spec = {"field": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
        raise TemplateConfigError(f"{where}: parameter {name} needs a field (one of {', '.join(FIELDS[purpose])})")
    if spec["field"] not in FIELDS[purpose]:
        raise TemplateConfigError(f"{where}: parameter {name} maps to unknown field {spec['field']!r}; "
                                  f"{purpose} can fill {', '.join(FIELDS[purpose])}")
    unknown = set(spec) - {"field", "max_length"}
    if unknown:
        raise TemplateConfigError(f"{where}: parameter {name} has unknown keys {sorted(unknown)}")
    limit = spec.get("max_length")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0):
        raise TemplateConfigError(f"{where}: parameter {name} max_length must be a positive integer")
    return Param(name, spec["field"], limit)


def parse_registry(data: Any, source: str = "(inline)", env: Optional[Mapping[str, str]] = None) -> TemplateRegistry:
    """Validate the parsed YAML ``data``; TemplateConfigError on the first problem."""
    env = os.environ if env is None else env
    if data is None:
        return TemplateRegistry({}, source)
    if not isinstance(data, dict) or not isinstance(data.get("templates", {}), dict):
        raise TemplateConfigError(f"{source}: expected a mapping with a 'templates' mapping")
    templates: Dict[str, Template] = {}
    for purpose, spec in (data.get("templates") or {}).items():
        where = f"{source}: templates.{purpose}"
        if purpose not in FIELDS:
            raise TemplateConfigError(f"{where}: unknown purpose; known: {', '.join(FIELDS)}")
        if not isinstance(spec, dict):
            raise TemplateConfigError(f"{where}: expected a mapping with template_id and params")
        template_id = _expand(spec.get("template_id"), env)
        if template_id and not template_id.isdigit():
            raise TemplateConfigError(f"{where}: template_id {template_id!r} is not a Zalo template id (digits)")
        params = spec.get("params")
        if not isinstance(params, dict) or not params:
            raise TemplateConfigError(f"{where}: params must map each template parameter to a field")
        templates[purpose] = Template(purpose, template_id,
                                      tuple(_param(where, purpose, k, v) for k, v in params.items()),
                                      str(spec.get("sample") or "").strip())
    return TemplateRegistry(templates, source)


def load_registry(path: Optional[Path] = None, env: Optional[Mapping[str, str]] = None) -> TemplateRegistry:
    """The registry of ``path`` (default: ZNS_TEMPLATES_PATH or deploy/zns_templates.yml)."""
    import yaml

    env = os.environ if env is None else env
    path = Path(path or env.get("ZNS_TEMPLATES_PATH") or DEFAULT_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateConfigError(f"cannot read the ZNS template registry {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_registry(data, str(path), env)
