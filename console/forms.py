"""Procedure and office forms: the fields officers fill in <-> the YAML mapping the knowledge schema checks.

Pure functions (no I/O): the repository (console.content) validates and stores what they build.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

from knowledge import schema

from console.validation import GENERAL, FieldErrors
from console.yamltext import dump

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


def office_path_filter(oid: str, index: int) -> Callable[[str], Optional[str]]:
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
