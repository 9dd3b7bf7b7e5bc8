"""Import national records into the catalogue tier, and load it.

The tier lives in a generated folder (``KB_CATALOGUE_DIR``, default ``var/catalogue``; never committed: the national
file and anything derived from it stay out of the repository): ``records.jsonl.gz`` (one parsed record per line,
with its warnings and the text it could not parse), ``report.json`` (the import summary) and ``index/`` (the dense
index, built by ``knowledge build-catalogue`` or on first use).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Dict, Iterator, List, Optional, Tuple

from .parse import W_DUPLICATE, W_NOT_JSON, Record, parse_record

RECORDS_FILE = "records.jsonl.gz"
REPORT_FILE = "report.json"
REPO_DIR = Path(__file__).resolve().parents[2]


def catalogue_dir(env: Optional[Dict[str, str]] = None) -> Path:
    """Where the catalogue tier is stored (KB_CATALOGUE_DIR, default <repo>/var/catalogue)."""
    env = os.environ if env is None else env
    return Path(env.get("KB_CATALOGUE_DIR") or REPO_DIR / "var" / "catalogue")


@dataclass
class ImportReport:
    """What an import read, parsed and could not parse."""

    source: str = ""
    lines: int = 0
    records: int = 0
    parsed_fully: int = 0
    skipped: int = 0                                        # lines that were not a JSON object
    problems: Dict[str, int] = field(default_factory=dict)  # warning kind -> records with it
    by_field: Dict[str, int] = field(default_factory=dict)  # "kind field" -> records with it
    seconds: float = 0.0
    imported_at: str = ""
    version: str = ""

    def summary(self) -> str:
        """Human-readable summary printed at the end of an import."""
        lines = [f"{self.lines} line(s) read from {self.source}: {self.records} record(s) stored, "
                 f"{self.parsed_fully} parsed fully, {self.records - self.parsed_fully} with problems, "
                 f"{self.skipped} line(s) skipped ({self.seconds:.1f} s)"]
        if self.problems:
            lines.append("problems (records affected):")
            lines += [f"  {kind:<22}{n:>6}" for kind, n in sorted(self.problems.items(), key=lambda x: -x[1])]
        return "\n".join(lines)


def _open_text(path: Path) -> IO[str]:
    """A text stream of a .jsonl or .jsonl.gz file (gzip recognised by its magic bytes, not the name)."""
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_raw(path: Path) -> Iterator[Tuple[int, Optional[dict]]]:
    """(line number, JSON object or None when the line is not one) for each non-blank line."""
    with _open_text(Path(path)) as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                yield n, None
                continue
            yield n, obj if isinstance(obj, dict) else None


def import_records(path: Path) -> Tuple[List[Record], ImportReport]:
    """Parse every record of ``path``; duplicates (same id or same portal page) are flagged, the first id kept."""
    start = time.perf_counter()
    report = ImportReport(source=str(path))
    records: List[Record] = []
    ids: Dict[str, int] = {}
    urls: Dict[str, str] = {}
    for n, raw in read_raw(path):
        report.lines += 1
        if raw is None:
            report.skipped += 1
            report.problems[W_NOT_JSON] = report.problems.get(W_NOT_JSON, 0) + 1
            continue
        rec = parse_record(raw)
        if not rec.id:
            rec.id = f"line-{n}"
        if rec.id in ids:
            rec.warn(W_DUPLICATE, "ma_thu_tuc", f"id {rec.id} already on line {ids[rec.id]}")
            rec.id = f"{rec.id}-{n}"
        ids[rec.id] = n
        if rec.url and rec.url in urls:
            rec.warn(W_DUPLICATE, "detail_url", f"same portal page as {urls[rec.url]}")
        elif rec.url:
            urls[rec.url] = rec.id
        records.append(rec)
    kinds: Counter = Counter()
    fields: Counter = Counter()
    for rec in records:
        kinds.update(rec.warning_kinds)
        fields.update({f"{w['kind']} {w['field']}" for w in rec.warnings})
    report.records = len(records)
    report.parsed_fully = sum(1 for r in records if not r.warnings)
    report.problems.update(kinds)
    report.by_field = dict(fields)
    report.seconds = time.perf_counter() - start
    return records, report


def records_version(records: List[Record]) -> str:
    """Digest of the parsed records (changes when any record changes)."""
    h = hashlib.sha1()
    for r in records:
        h.update(json.dumps(r.to_dict(), ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return h.hexdigest()[:16]


def save(records: List[Record], report: ImportReport, out_dir: Path) -> None:
    """Write the records and the report into ``out_dir`` (each file replaced atomically)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report.version = records_version(records)
    report.imported_at = time.strftime("%Y-%m-%dT%H:%M:%S")
    fd, tmp = tempfile.mkstemp(prefix=".records-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for r in records:
                gz.write((json.dumps(r.to_dict(), ensure_ascii=False) + "\n").encode("utf-8"))
        os.chmod(tmp, 0o644)   # mkstemp makes it private; the console and the action server read it
        os.replace(tmp, out_dir / RECORDS_FILE)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    (out_dir / (REPORT_FILE + ".tmp")).write_text(json.dumps(asdict(report), ensure_ascii=False, indent=1),
                                                  encoding="utf-8")
    os.replace(out_dir / (REPORT_FILE + ".tmp"), out_dir / REPORT_FILE)


class Catalogue:
    """The stored catalogue tier: parsed records by id, in file order."""

    def __init__(self, records: List[Record], directory: Optional[Path] = None, version: str = ""):
        self.records: Dict[str, Record] = {r.id: r for r in records}
        self.directory = Path(directory) if directory else None
        self.version = version or records_version(records)

    def __len__(self) -> int:
        return len(self.records)

    def get(self, record_id: str) -> Optional[Record]:
        """The record with this id, or None."""
        return self.records.get(record_id)

    @property
    def index_dir(self) -> Optional[Path]:
        """Folder of the catalogue's dense index."""
        return self.directory / "index" if self.directory else None

    def report(self) -> Dict:
        """The stored import report ({} when absent)."""
        if not self.directory:
            return {}
        try:
            return json.loads((self.directory / REPORT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    @classmethod
    def load(cls, directory: Path) -> Optional["Catalogue"]:
        """The catalogue stored in ``directory``, or None when nothing was imported there."""
        path = Path(directory) / RECORDS_FILE
        if not path.exists():
            return None
        records = []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    records.append(Record.from_dict(json.loads(line)))
        version = ""
        try:
            version = json.loads((Path(directory) / REPORT_FILE).read_text(encoding="utf-8")).get("version", "")
        except (OSError, ValueError):
            pass
        return cls(records, directory, version)
