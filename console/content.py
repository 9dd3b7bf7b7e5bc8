"""Procedures and offices as officers edit them: form fields <-> YAML, validation mapped to fields, versions, files.

The YAML files under the knowledge folder stay the published content (the bot and ``python -m knowledge build``
read them). Every save is a version in SQL (store.versions); publishing writes the latest versions to the files.
Blocking functions: handlers call them through ``infra.db.run_sync``.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

from knowledge import schema

from console import store

FILE_AUTHOR = "tệp đã xuất bản"
GENERAL = "_general"

STATUS_LABELS = {"sourced": "Có nguồn", "verified": "Đã xác minh", "unconfirmed": "Chưa xác minh"}
SECTION_TITLES = {
    "submit": "Nơi nộp hồ sơ", "online": "Làm trực tuyến", "documents": "Giấy tờ cần chuẩn bị",
    "steps": "Các bước thực hiện", "processing_time": "Thời gian giải quyết", "fees": "Lệ phí",
    "eligibility": "Điều kiện, đối tượng (không bắt buộc)", "legal_basis": "Căn cứ pháp lý",
    "notes": "Lưu ý (không bắt buộc)",
}
OPTIONAL_SECTIONS = ("eligibility", "notes")
PROC_TEXT = (("key", "Mã thủ tục (chữ thường không dấu, dùng làm tên tệp)"), ("name", "Tên ngắn người dân quen gọi"),
             ("official_name", "Tên chính thức"), ("field", "Lĩnh vực"), ("level", "Cấp thực hiện"),
             ("agency", "Cơ quan giải quyết"), ("official_link", "Đường dẫn văn bản chính thức"),
             ("updated", "Ngày cập nhật (YYYY-MM-DD)"))
PROC_LINES = (("aliases", "Cách người dân gọi thủ tục (mỗi dòng một cách, cả có dấu và không dấu; ít nhất 3)"),
              ("examples", "Câu hỏi mẫu của người dân (mỗi dòng một câu; giúp tìm kiếm, không hiển thị)"),
              ("related", "Thủ tục liên quan (mỗi dòng một mã thủ tục)"),
              ("sources", "Nguồn tham khảo (mỗi dòng một đường dẫn)"))
OFFICE_TEXT = (("id", "Mã điểm tiếp nhận (chữ thường không dấu)"), ("name", "Tên"), ("address", "Địa chỉ"),
               ("phone", "Số điện thoại"), ("lat", "Vĩ độ"), ("lon", "Kinh độ"), ("counters", "Số quầy mỗi khung giờ"),
               ("slot_minutes", "Độ dài khung giờ (phút)"))
OFFICE_LINES = (("aliases", "Tên gọi khác (mỗi dòng một tên)"),
                ("old_names", "Tên cũ người dân còn dùng (mỗi dòng một tên)"),
                ("hours", "Giờ làm việc: mỗi dòng một ngày, ví dụ «mon: 08:00-11:30, 13:30-17:00» "
                          "(mon tue wed thu fri sat sun; ngày không ghi là nghỉ)"),
                ("receives", "Thủ tục tiếp nhận (mỗi dòng một mã; all_commune = mọi thủ tục cấp xã)"),
                ("unconfirmed", "Thông tin chưa xác nhận, đang dùng giá trị mặc định (address, phone, hours, counters, "
                                "coordinates; mỗi dòng một mục). Điền giá trị thật ở trên thì mục đó được xác nhận."))


# ----------------------------------------------------------------------------------------------- YAML
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


def lines(value: Any) -> str:
    """A list as one entry per line for a textarea."""
    if not value:
        return ""
    return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)


def split_lines(text: str) -> List[str]:
    """Non-empty stripped lines of a textarea."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _date_or_text(text: str) -> Any:
    """A date when the text is YYYY-MM-DD (written unquoted like the hand-written files), else the text."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def _number(text: str) -> Any:
    """An int or float when the text is one, else the text itself (the schema then says what is wrong)."""
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


# ----------------------------------------------------------------------------------------------- messages
_MESSAGES: List[Tuple[str, str]] = [
    (r"missing \(required\)", "Bắt buộc, chưa điền."),
    (r"missing \(one of .*\)", "Chưa chọn trạng thái."),
    (r"missing", "Chưa điền."),
    (r"must be a non-empty text", "Không được để trống."),
    (r"needs at least (\d+) entries, has (\d+)", r"Cần ít nhất \1 dòng (hiện có \2)."),
    (r"required when status is verified \(YYYY-MM-DD\)", "Đã xác minh thì phải ghi ngày xác minh (YYYY-MM-DD)."),
    (r"required when status is verified", "Đã xác minh thì phải ghi tên người xác minh."),
    (r"(.*) is not a date YYYY-MM-DD", r"\1 không phải ngày dạng YYYY-MM-DD (ví dụ 2026-11-24)."),
    (r"(.*) is not an http\(s\) URL", r"\1 không phải đường dẫn bắt đầu bằng http:// hoặc https://."),
    (r"(.*) is not one of (.*)", r"\1 không hợp lệ; chọn một trong: \2."),
    (r"has no content.*", "Chưa có nội dung: điền đoạn văn hoặc danh sách. Nếu chưa biết, ghi cần kiểm tra gì "
                          "và để trạng thái «Chưa xác minh»."),
    (r"unknown procedure key (.*)", r"Không có thủ tục nào mang mã \1."),
    (r"a procedure cannot be related to itself", "Thủ tục không thể liên quan đến chính nó."),
    (r"unknown field", "Trường này không có trong mẫu dữ liệu."),
    (r"empty although some section is sourced or verified",
     "Cần ít nhất một nguồn khi có mục «Có nguồn» hoặc «Đã xác minh»."),
    (r"(.*) differs from the file name (.*)", r"Mã \1 phải trùng tên tệp \2."),
    (r"(.*) is not an ascii slug.*", r"\1: chỉ dùng chữ thường không dấu, chữ số và dấu gạch dưới."),
    (r"invalid YAML: (.*)", r"Sai cú pháp YAML: \1."),
    (r"must be a mapping with a name", "Mỗi giấy tờ cần có tên (name)."),
    (r"must be a mapping with code and status", "Mỗi dòng cần mã và trạng thái, ví dụ «1.001193 | sourced»."),
    (r"must be a list.*", "Phải là một danh sách."),
    (r"must be a mapping.*", "Sai cấu trúc: cần các trường con."),
    (r"must be a text", "Phải là đoạn văn."),
    (r"must be a positive integer", "Phải là số nguyên dương."),
    (r"must be \{lat, lon\}.*", "Vĩ độ (-90..90) và kinh độ (-180..180) phải là số."),
    (r"duplicate (.*)", r"Bị trùng: \1."),
    (r"(.*) is not a span HH:MM-HH:MM", r"\1 không đúng dạng giờ HH:MM-HH:MM (giờ mở trước giờ đóng)."),
    (r"unknown weekday.*", "Ngày không hợp lệ: dùng mon, tue, wed, thu, fri, sat, sun."),
]


def vietnamese(message: str) -> str:
    """The schema's English message in Vietnamese for officers (the original when no translation matches)."""
    for pattern, repl in _MESSAGES:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, repl, message)
    return message


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


KEY_RULE = "Mã chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, ví dụ: dang_ky_khai_sinh."


@dataclass
class FieldErrors:
    """Validation problems grouped by form field (GENERAL for those that belong to no field)."""

    by_field: Dict[str, List[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        """Attach one message to a field."""
        self.by_field.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def count(self) -> int:
        """Number of messages."""
        return sum(len(v) for v in self.by_field.values())


def _field_of(path: str, fields: List[str]) -> str:
    """The form field a schema path belongs to: the longest known prefix ("documents.items[2].name" ->
    "documents.items", "aliases[1]" -> "aliases", "fees.bogus" -> "fees")."""
    parts = re.split(r"\.|\[", path)
    for n in (2, 1):
        name = ".".join(parts[:n])
        if len(parts) >= n and name in fields:
            return name
    return GENERAL


def map_errors(errors: List[str], file: str, fields: List[str], baseline: List[str],
               path_filter: Callable[[str], Optional[str]] = lambda p: p) -> FieldErrors:
    """Attach ``file: path: message`` lines to form fields; new problems in other files are general errors.

    ``path_filter`` turns a path of ``file`` into the item's own path, or None for another item of the same file.
    """
    out = FieldErrors()
    for line in errors:
        where, _, rest = line.partition(": ")
        path, _, message = rest.partition(": ")
        if where == file:
            own = path_filter(path)
            if own is None:
                if line not in baseline:
                    out.add(GENERAL, f"{path}: {vietnamese(message)}")
                continue
            name = _field_of(own, fields)
            detail = "" if own == name else f" ({own})"
            out.add(name, vietnamese(message) + detail)
        elif line not in baseline:  # this change broke another file (e.g. an office receiving a removed key)
            out.add(GENERAL, f"{where}: {path}: {vietnamese(message)}")
    return out


# ----------------------------------------------------------------------------------------------- procedures
def section_fields(name: str) -> List[str]:
    """Form field names of one fact section."""
    extra = [f for f in schema.SECTION_FIELDS[name]]
    return [f"{name}.{f}" for f in ("status", "verified_by", "verified_at", "text", *extra, "unconfirmed_items")]


def procedure_fields() -> List[str]:
    """Every form field name of the procedure form (for error mapping)."""
    names = [n for n, _ in PROC_TEXT] + [n for n, _ in PROC_LINES] + ["codes"]
    for sec in schema.SECTION_FIELDS:
        names += [sec] + section_fields(sec)
    return names


def procedure_form(data: Dict[str, Any]) -> Dict[str, str]:
    """The form values of a procedure mapping."""
    form: Dict[str, str] = {name: _scalar(data.get(name)) for name, _ in PROC_TEXT}
    for name, _ in PROC_LINES:
        form[name] = lines(data.get(name))
    form["codes"] = "\n".join(
        " | ".join(_scalar(c.get(f)) for f in ("code", "status", "verified_by", "verified_at") if c.get(f))
        if isinstance(c, dict) else str(c) for c in data.get("codes") or [])
    for sec in schema.SECTION_FIELDS:
        raw = data.get(sec) or {}
        if not isinstance(raw, dict):
            raw = {}
        for f in ("status", "verified_by", "verified_at", "text", "in_person", "postal", "level",
                  "deadline_for_citizen"):
            form[f"{sec}.{f}"] = _scalar(raw.get(f))
        for f in ("unconfirmed_items", "exemptions"):
            form[f"{sec}.{f}"] = lines(raw.get(f))
        for f in ("offices", "portals"):  # one-line inputs: comma-separated
            value = raw.get(f)
            form[f"{sec}.{f}"] = ", ".join(map(str, value)) if isinstance(value, list) else _scalar(value)
        items = raw.get("items")
        if sec == "documents":
            form["documents.items"] = dump(items).strip() if items else ""
        else:
            form[f"{sec}.items"] = lines(items)
    return form


def procedure_from_form(form: Dict[str, str], verifier: str, today: dt.date) -> Tuple[Dict[str, Any], FieldErrors]:
    """The procedure mapping an officer's form describes, and the problems found before the schema's checks."""
    problems = FieldErrors()
    data: Dict[str, Any] = {}

    def text(name: str) -> None:
        value = (form.get(name) or "").strip()
        if value:
            data[name] = value

    for name in ("key", "name", "official_name"):
        text(name)
    codes = []
    for line in split_lines(form.get("codes", "")):
        parts = [p.strip() for p in line.split("|")]
        code: Dict[str, Any] = {"code": parts[0], "status": parts[1] if len(parts) > 1 and parts[1] else "sourced"}
        if len(parts) > 2 and parts[2]:
            code["verified_by"] = parts[2]
        if len(parts) > 3 and parts[3]:
            code["verified_at"] = _date_or_text(parts[3])
        codes.append(code)
    if codes:
        data["codes"] = codes
    for name in ("aliases", "examples"):
        if split_lines(form.get(name, "")) or name == "aliases":
            data[name] = split_lines(form.get(name, ""))
    for name in ("field", "level", "agency", "official_link"):
        text(name)
    for sec in schema.SECTION_FIELDS:
        section = _section_from_form(sec, form, verifier, today, problems)
        if section is not None:
            data[sec] = section
    if split_lines(form.get("related", "")):
        data["related"] = split_lines(form.get("related", ""))
    data["sources"] = split_lines(form.get("sources", ""))
    if (form.get("updated") or "").strip():
        data["updated"] = _date_or_text(form["updated"].strip())
    return data, problems


def _section_from_form(sec: str, form: Dict[str, str], verifier: str, today: dt.date,
                       problems: FieldErrors) -> Optional[Dict[str, Any]]:
    """One fact section from its form fields (None for an optional section left empty)."""
    get = lambda f: (form.get(f"{sec}.{f}") or "").strip()  # noqa: E731 - a local shorthand
    out: Dict[str, Any] = {"status": get("status")}
    if form.get(f"{sec}.verify_now"):
        out["status"] = "verified"
        out["verified_by"], out["verified_at"] = verifier, today
    elif get("status") == "verified":
        if get("verified_by"):
            out["verified_by"] = get("verified_by")
        if get("verified_at"):
            out["verified_at"] = _date_or_text(get("verified_at"))
    if sec == "submit":
        offices = [o.strip() for line in split_lines(get("offices")) for o in line.split(",") if o.strip()]
        if offices:
            out["offices"] = offices
        if get("in_person"):
            out["in_person"] = get("in_person")
        if get("postal"):
            # YAML 1.1 reads a bare yes/no as a boolean: write it the way the hand-written files do
            out["postal"] = {"yes": True, "no": False}.get(get("postal"), get("postal"))
    elif sec == "online":
        if get("level"):
            out["level"] = get("level")
        portals = [o.strip() for line in split_lines(get("portals")) for o in line.split(",") if o.strip()]
        if portals:
            out["portals"] = portals
    elif sec == "processing_time" and get("deadline_for_citizen"):
        out["deadline_for_citizen"] = get("deadline_for_citizen")
    elif sec == "fees" and split_lines(get("exemptions")):
        out["exemptions"] = split_lines(get("exemptions"))
    if get("text"):
        out["text"] = get("text")
    if sec == "documents" and get("items"):
        try:
            items = yaml.safe_load(get("items"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (dòng {mark.line + 1})" if mark is not None else ""
            problems.add("documents.items", f"Sai cú pháp YAML{where}: {getattr(exc, 'problem', None) or exc}.")
            items = None
        if items is not None:
            out["items"] = items
    elif "items" in schema.SECTION_FIELDS[sec] and split_lines(get("items")):
        out["items"] = split_lines(get("items"))
    if split_lines(get("unconfirmed_items")):
        out["unconfirmed_items"] = split_lines(get("unconfirmed_items"))
    if sec in OPTIONAL_SECTIONS and len(out) == 1 and out["status"] in ("", "unconfirmed"):
        return None
    if not out["status"]:
        del out["status"]
    return out


# ----------------------------------------------------------------------------------------------- offices
def office_form(data: Dict[str, Any]) -> Dict[str, str]:
    """The form values of one office mapping."""
    form = {name: _scalar(data.get(name)) for name, _ in OFFICE_TEXT if name not in ("lat", "lon")}
    coords = data.get("coordinates") or {}
    form["lat"] = _scalar(coords.get("lat")) if isinstance(coords, dict) else ""
    form["lon"] = _scalar(coords.get("lon")) if isinstance(coords, dict) else ""
    for name in ("kind", "status", "verified_by", "verified_at"):
        form[name] = _scalar(data.get(name))
    for name in ("aliases", "old_names", "receives", "unconfirmed"):
        form[name] = lines(data.get(name))
    hours = data.get("hours") or {}
    form["hours"] = "\n".join(f"{day}: {', '.join(spans or [])}" for day, spans in hours.items()) \
        if isinstance(hours, dict) else ""
    return form


def office_fields() -> List[str]:
    """Every form field name of the office form."""
    return [n for n, _ in OFFICE_TEXT] + [n for n, _ in OFFICE_LINES] + [
        "kind", "status", "verified_by", "verified_at", "coordinates"]


def office_from_form(form: Dict[str, str], verifier: str, today: dt.date) -> Tuple[Dict[str, Any], FieldErrors]:
    """The office mapping an officer's form describes, and the problems found before the schema's checks."""
    problems = FieldErrors()
    get = lambda f: (form.get(f) or "").strip()  # noqa: E731 - a local shorthand
    data: Dict[str, Any] = {}
    for name in ("id", "name", "kind"):
        if get(name):
            data[name] = get(name)
    for name in ("aliases", "old_names"):
        if split_lines(get(name)):
            data[name] = split_lines(get(name))
    data["address"], data["phone"] = get("address"), get("phone")
    if get("lat") or get("lon"):
        data["coordinates"] = {"lat": _number(get("lat")), "lon": _number(get("lon"))}
    hours: Dict[str, List[str]] = {}
    for line in split_lines(get("hours")):
        day, sep, spans = line.partition(":")
        if not sep:
            problems.add("hours", f"«{line}»: cần dạng «mon: 08:00-11:30, 13:30-17:00».")
            continue
        hours[day.strip()] = [s.strip() for s in spans.split(",") if s.strip()]
    if hours:
        data["hours"] = hours
    for name in ("counters", "slot_minutes"):
        if get(name):
            data[name] = _number(get(name))
    data["receives"] = split_lines(get("receives"))
    # A fact typed in by the officer is no longer a default: only the still-empty ones stay unconfirmed.
    given = {"address": bool(get("address")), "phone": bool(get("phone")), "hours": bool(hours),
             "counters": bool(get("counters")), "coordinates": bool(get("lat") or get("lon"))}
    unconfirmed = [f for f in split_lines(get("unconfirmed")) if f in given and not given[f]]
    if unconfirmed and not form.get("verify_now"):
        data["unconfirmed"] = unconfirmed
    data["status"] = get("status")
    if form.get("verify_now"):
        data["status"], data["verified_by"], data["verified_at"] = "verified", verifier, today
    elif get("status") == "verified":
        if get("verified_by"):
            data["verified_by"] = get("verified_by")
        if get("verified_at"):
            data["verified_at"] = _date_or_text(get("verified_at"))
    return data, problems


def _office_path_filter(oid: str, index: int) -> Callable[[str], Optional[str]]:
    """Paths of ``offices.yml`` that concern this office, without the ``offices[...]`` prefix."""
    prefixes = (f"offices[{oid}]", f"offices[{index}]")

    def own(path: str) -> Optional[str]:
        for p in prefixes:
            if path == p:
                return GENERAL
            if path.startswith(p + "."):
                rest = path[len(p) + 1:]
                return "coordinates" if rest.startswith("coordinates") else rest
        return None
    return own


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
                          _office_path_filter(key, index))

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
