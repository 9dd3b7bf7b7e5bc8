"""The knowledge schema's problems for officers: Vietnamese messages, grouped by the form field they concern."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

GENERAL = "_general"
KEY_RULE = "Mã chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, ví dụ: dang_ky_khai_sinh."


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
