"""The repository of procedures and offices: the published files, the versions and drafts in SQL, publishing.

The YAML files under the knowledge folder stay the published content (the bot and ``python -m knowledge build``
read them). Every save is a version in SQL (store.versions); publishing writes the latest versions to the files.
Forms live in console.forms, the mapping of the schema's problems to form fields in console.validation.
Blocking functions: handlers call them through ``infra.db.run_sync``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from knowledge import schema

from console import store
from console.forms import office_fields, office_path_filter, procedure_fields
from console.validation import KEY_RULE, FieldErrors, map_errors
from console.yamltext import dump, load

FILE_AUTHOR = "tệp đã xuất bản"


def check_key(key: str) -> None:
    """Keys name files (procedures/<key>.yml): only slugs, never a path (issue 13: ``../../tmp/x`` wrote outside)."""
    if not isinstance(key, str) or not schema.SLUG.match(key):
        raise ValueError(f"not a slug: {key!r}")


def inside(base: Path, rel: str) -> Path:
    """``base / rel`` resolved, refused unless it stays inside ``base`` (symlinks and ``..`` included)."""
    root = Path(base).resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise ValueError(f"outside the knowledge folder: {rel!r}")
    return target



# ----------------------------------------------------------------------------------------------- repository
@dataclass
class Item:
    """A procedure or an office with its latest version."""

    kind: str            # procedure | office
    key: str
    data: Dict[str, Any]
    version: Optional[store.Version]

    @property
    def doc(self) -> str:
        """The versions' document id."""
        return f"{self.kind}:{self.key}"

    @property
    def published(self) -> bool:
        """True when the latest version is what the files hold."""
        return self.version is None or self.version.published_at is not None


class Repository:
    """The knowledge folder and the versions of its items."""

    def __init__(self, kb_dir: Path):
        self.kb_dir = Path(kb_dir)

    # -------------------------------------------------------------------------------------------- files
    @property
    def procedures_dir(self) -> Path:
        """Folder of the procedure files."""
        return self.kb_dir / "procedures"

    @property
    def offices_file(self) -> Path:
        """The offices file."""
        return self.kb_dir / "offices.yml"

    def rel(self, path: Path) -> str:
        """A file's name as the validator prints it."""
        return str(path.relative_to(self.kb_dir.parent))

    def _file_procedures(self) -> Dict[str, Any]:
        out = {}
        for path in sorted(self.procedures_dir.glob("*.yml")):
            try:
                out[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError):
                out[path.stem] = None
        return out

    def _file_offices(self) -> List[Dict[str, Any]]:
        try:
            data = yaml.safe_load(self.offices_file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return []
        return [o for o in data.get("offices") or [] if isinstance(o, dict) and o.get("id")]

    # -------------------------------------------------------------------------------------------- sync
    def sync(self) -> None:
        """Record the published files as versions where the console has none, or where they changed outside it."""
        latest = store.latest_all("")
        found: Dict[str, Any] = {f"procedure:{k}": d for k, d in self._file_procedures().items() if d is not None}
        found.update({f"office:{o['id']}": o for o in self._file_offices()})
        for doc, data in found.items():
            current = latest.get(doc)
            if current is not None and (current.published_at is None or load(current.content) == data):
                continue  # a draft waits for publishing, or the file is what the console last published
            note = "" if current is None else "tệp được sửa ngoài bảng điều khiển"
            try:
                store.add_version(doc, dump(data), FILE_AUTHOR, "import", current.number if current else None,
                                  note=note, published=True)
            except store.Conflict:
                pass  # another request imported it at the same moment

    def items(self, kind: str) -> List[Item]:
        """Every procedure or office (latest version), sorted by key."""
        self.sync()
        out = [Item(kind, doc.split(":", 1)[1], load(v.content) or {}, v)
               for doc, v in store.latest_all(kind + ":").items() if v.content is not None]
        return sorted(out, key=lambda i: i.key)

    def item(self, kind: str, key: str) -> Optional[Item]:
        """One procedure or office (None when unknown)."""
        self.sync()
        v = store.latest(f"{kind}:{key}")
        if v is None or v.content is None:
            return None
        return Item(kind, key, load(v.content) or {}, v)

    # -------------------------------------------------------------------------------------------- validate
    def _candidate_changes(self, doc: Optional[str] = None,
                           data: Optional[Dict[str, Any]] = None) -> Dict[str, Optional[str]]:
        """The file texts that publishing every draft (and ``data`` as ``doc`` when given) would produce."""
        changes: Dict[str, Optional[str]] = {}
        drafts = {v.doc: load(v.content) for v in store.unpublished()}
        if doc is not None:
            drafts[doc] = data
        offices_changed = False
        for doc, value in drafts.items():
            k, name = doc.split(":", 1)
            check_key(name)
            if k == "procedure":
                changes[f"procedures/{name}.yml"] = None if value is None else dump(value)
            else:
                offices_changed = True
        if offices_changed:
            changes["offices.yml"] = self._offices_text({d.split(":", 1)[1]: v for d, v in drafts.items()
                                                         if d.startswith("office:")})
        return changes

    def validate(self, kind: str, key: str, data: Dict[str, Any]) -> FieldErrors:
        """Validate an item exactly like ``python -m knowledge validate`` would once published."""
        if not isinstance(key, str) or not schema.SLUG.match(key):
            refused = FieldErrors()
            refused.add("key" if kind == "procedure" else "id", KEY_RULE)
            return refused
        baseline = schema.validate(self.kb_dir)
        errors = schema.validate_with(self.kb_dir, self._candidate_changes(f"{kind}:{key}", data))
        if kind == "procedure":
            file = f"{self.kb_dir.name}/procedures/{key}.yml"
            return map_errors(errors, file, procedure_fields(), baseline)
        index = next((i for i, o in enumerate(self._offices_after({key: data})) if o.get("id") == key), -1)
        return map_errors(errors, f"{self.kb_dir.name}/offices.yml", office_fields(), baseline,
                          office_path_filter(key, index))

    # -------------------------------------------------------------------------------------------- save
    def save(self, kind: str, key: str, data: Dict[str, Any], author: str, base: Optional[int],
             action: str = "edit", note: str = "") -> store.Version:
        """Store a validated item as a new version (store.Conflict when ``base`` is not the latest)."""
        check_key(key)
        return store.add_version(f"{kind}:{key}", dump(data), author, action, base, note=note)

    def revert(self, kind: str, key: str, number: int, author: str, base: int) -> store.Version:
        """A new version whose content is version ``number``'s."""
        check_key(key)
        old = store.get_version(f"{kind}:{key}", number)
        if old is None:
            raise KeyError(number)
        return store.add_version(f"{kind}:{key}", old.content, author, "revert", base,
                                 note=f"quay lại phiên bản {number}")

    # -------------------------------------------------------------------------------------------- publish
    def _offices_after(self, changed: Dict[str, Optional[Dict[str, Any]]]) -> List[Dict[str, Any]]:
        out = []
        for office in self._file_offices():
            if office["id"] in changed:
                if changed[office["id"]] is not None:
                    out.append(changed[office["id"]])
            else:
                out.append(office)
        known = {o["id"] for o in self._file_offices()}
        out += [d for oid, d in changed.items() if oid not in known and d is not None]
        return out

    def _offices_text(self, changed: Dict[str, Optional[Dict[str, Any]]]) -> str:
        """offices.yml with the changed offices replaced in place (the file's comments elsewhere are kept)."""
        try:
            text = self.offices_file.read_text(encoding="utf-8")
        except OSError:
            text = "offices:\n"
        for oid, data in changed.items():
            block = "" if data is None else "  - " + dump(data).rstrip("\n").replace("\n", "\n    ") + "\n"
            match = re.search(rf"^  - id: {re.escape(oid)}[ \t]*(#.*)?\n(?:(?!  - |\S).*\n?)*", text, flags=re.M)
            if match:
                tail = "\n" if match.group(0).endswith("\n\n") else ""
                text = text[:match.start()] + block + tail + text[match.end():]
            elif block:
                text = text.rstrip("\n") + "\n\n" + block
        return text

    def publish_files(self) -> Tuple[List[str], List[int]]:
        """Write every draft to the knowledge files; returns (files written, version ids published).

        Refuses (ValueError with the problems) when the result would not validate.
        """
        drafts = store.unpublished()
        if not drafts:
            return [], []
        changes = self._candidate_changes()
        errors = schema.validate_with(self.kb_dir, changes)
        baseline = set(schema.validate(self.kb_dir))
        new = [e for e in errors if e not in baseline]
        if new:
            raise ValueError("\n".join(new))
        written = []
        for rel, text in changes.items():
            path = inside(self.kb_dir, rel)
            if text is None:
                path.unlink(missing_ok=True)
            else:
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                tmp.replace(path)  # atomic: a reader sees the old file or the new one, never half of it
            written.append(rel)
        store.mark_published([v.id for v in drafts])
        return written, [v.id for v in drafts]


def diff(old: Optional[str], new: Optional[str]) -> List[Tuple[str, str]]:
    """Line diff of two versions as (kind, line) with kind in ' ', '+', '-', '@'."""
    out = []
    for line in difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        out.append((line[0] if line[:1] in "+-@" else " ", line))
    return out
