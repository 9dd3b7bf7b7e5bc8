"""The whole knowledge folder: load it, list its validation errors, check candidate files before they are written."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

from knowledge.schema.models import KnowledgeBase
from knowledge.schema.offices_holidays import load_holidays, load_offices
from knowledge.schema.procedures import load_procedures


def load_knowledge_base(kb_dir: Path) -> KnowledgeBase:
    """Load procedures, offices and holidays under ``kb_dir``, collecting every validation error."""
    kb_dir = Path(kb_dir)
    errors: List[str] = []
    procedures = load_procedures(kb_dir / "procedures", errors, base=kb_dir)
    offices = load_offices(kb_dir / "offices.yml", procedures, errors, base=kb_dir)
    holidays = load_holidays(kb_dir / "holidays.yml", errors, base=kb_dir)
    return KnowledgeBase(procedures=procedures, offices=offices, holidays=holidays, errors=errors)


def validate(kb_dir: Path) -> List[str]:
    """All validation errors of the knowledge base under ``kb_dir`` (empty list when valid)."""
    kb = load_knowledge_base(kb_dir)
    errors = list(kb.errors)
    if not kb.procedures and not errors:
        errors.append(f"{Path(kb_dir) / 'procedures'}: (folder): no procedure files found")
    return errors


def validate_with(kb_dir: Path, changes: Dict[str, Optional[str]]) -> List[str]:
    """The errors :func:`validate` would report if the files in ``changes`` held the given text.

    ``changes`` maps a path relative to ``kb_dir`` (``procedures/khai_sinh.yml``, ``offices.yml``) to its candidate
    text (None: the file removed). The knowledge files are copied to a temporary folder of the same name, so the
    checks and the ``file: field: message`` prefixes are exactly those of ``python -m knowledge validate``.
    """
    import shutil
    import tempfile

    kb_dir = Path(kb_dir)
    with tempfile.TemporaryDirectory(prefix="kb-candidate-") as tmp:
        copy = Path(tmp) / kb_dir.name
        (copy / "procedures").mkdir(parents=True)
        for pattern in ("procedures/*.yml", "procedures/*.yaml", "offices.yml", "holidays.yml"):
            for path in kb_dir.glob(pattern):
                shutil.copyfile(path, copy / path.relative_to(kb_dir))
        for rel, text in changes.items():
            target = (copy / rel).resolve()
            if copy.resolve() not in target.parents:  # a key like ../../x must never name a file elsewhere
                raise ValueError(f"outside the knowledge folder: {rel!r}")
            if text is None:
                target.unlink(missing_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        return validate(copy)
