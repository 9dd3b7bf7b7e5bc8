"""Tolerant parsing of national procedure records (the National Public Service Portal's published pages).

The portal's export flattens its tables: headers are glued to the values ("Hình thức nộpThời gianPhí, lệ phíMô tả
Trực tiếp20 Ngày làm việc..."), "Không có thông tin" stands for empty, a few codes differ from the one printed in
the page, and many fields are empty. Each parser keeps what it recognised and hands back what it could not, with a
warning of a known kind: nothing is guessed, and staff see the rest verbatim.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from dataclasses import field as _field
from typing import Any, Dict, List, Optional, Tuple

from vntext.textnorm import nfc

NO_INFO = "Không có thông tin"
CODE_RE = re.compile(r"^\d\.\d{6}$")
ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")   # what a catalogue id may look like (URLs, files)

# Warning kinds (the import summary counts records per kind).
W_MISSING = "missing"                  # a field the answer needs is empty or "Không có thông tin"
W_CODE_MISMATCH = "code_mismatch"      # ma_thu_tuc differs from the code printed inside raw_text
W_BAD_CODE = "bad_code"                # ma_thu_tuc is not of the national form d.dddddd
W_WAYS_UNPARSED = "ways_unparsed"      # cach_thuc_thuc_hien: some text could not be split into rows
W_TIME_NO_UNIT = "time_without_unit"   # a row's time is a bare number (unit lost in the export)
W_DOCS_UNPARSED = "documents_unparsed"  # thanh_phan_ho_so: text without a count ("1 bản chính") to close an item
W_TEMPLATE_GLUED = "template_glued"    # a form's file name glued to the document name without a separator
W_FEE_NO_AMOUNT = "fee_without_amount"  # a currency without its amount (" VNĐ(20.000 đ/tờ khai)")
W_DUPLICATE = "duplicate"              # the same id or the same portal page as an earlier record
W_NOT_JSON = "not_json"                # a line that is not a JSON object (the line is skipped)

WAYS_HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"
DOCS_HEADER = "Tên giấy tờMẫu đơn, tờ khaiSố lượng"
LEGAL_HEADER = "Tên văn bản pháp lýMã văn bản"
WAY_NAMES = ("Trực tiếp", "Trực tuyến", "Dịch vụ bưu chính")
UNITS = ("Ngày làm việc", "Ngày", "Giờ", "Tháng", "Năm", "Tuần", "Phút")
_NUM = r"\d+(?:[.,]\d+)?"
# A row starts with a way followed at once by its time (a number with or without unit, or no information): a way
# name inside a description ("Trực tiếp: nộp tại ...") is not followed by a time and does not start a row.
_ROW = re.compile(r"(?P<way>" + "|".join(WAY_NAMES) + r")(?P<time>(?P<num>" + _NUM + r")(?: (?P<unit>"
                  + "|".join(UNITS) + r"))?|" + NO_INFO + r")")
_AMOUNT = r"(?:\d{1,3}(?:[.,]\d{3})+|" + _NUM + r")"
_CURRENCY = r"(?:Việt Nam Đồng|VNĐ|VND|đồng|Đồng|USD|Euro|EUR)"
_FEE = re.compile(r"^(?P<fee>Miễn phí|" + NO_INFO + r"|(?:(?:Lệ phí|Phí)\s*:\s*)?" + _AMOUNT + r"\s*" + _CURRENCY + ")")
_COUNT = re.compile(r"(?:\d+ bản (?:chính|sao|chụp))(?:\s*,\s*\d+ bản (?:chính|sao|chụp))*")
_TEMPLATE = re.compile(r"\.(?:docx?|pdf|xlsx?|rar|zip|odt)$", re.IGNORECASE)
_RAW_CODE = re.compile(r"Mã thủ tục\s*([0-9][0-9.]*)\s*Số quyết định")
_RESULT = re.compile(r"(.+?)Mã:\s*[A-Z0-9.\-]+")


@dataclass
class Way:
    """One way to submit: in person, online or by post, with its time and fee as published."""

    way: str
    time: Optional[str] = None         # "20 Ngày làm việc"; None when not published or unit lost
    time_raw: str = ""                 # as published (e.g. "1" when the unit is missing)
    fee: Optional[str] = None          # "Miễn phí", "50.000 Việt Nam Đồng"; None when not published
    fee_note: str = ""                 # the parenthesised note right after an amount
    description: str = ""


@dataclass
class Document:
    """One paper of the dossier."""

    name: str
    count: str = ""                    # "1 bản chính", "0 bản chính,1 bản sao"
    template: str = ""                 # the form's file name on the portal, when it could be separated
    group: str = ""                    # the case heading the paper belongs to ("Trường hợp ...")


@dataclass
class Record:
    """A parsed national record: what was understood, what was not, and why."""

    id: str
    code: str
    name: str
    url: str = ""
    levels: List[str] = _field(default_factory=list)
    kind: str = ""
    field: str = ""
    audience: str = ""
    agency: str = ""                   # competent agency (co_quan_co_tham_quyen, else co_quan_thuc_hien)
    executing_agency: str = ""
    address: str = ""
    ways: List[Way] = _field(default_factory=list)
    documents: List[Document] = _field(default_factory=list)
    steps: str = ""
    conditions: str = ""
    legal_basis: List[str] = _field(default_factory=list)
    results: List[str] = _field(default_factory=list)
    ministry: str = ""
    raw_code: str = ""                 # the code printed in the page, when it differs from ``code``
    warnings: List[Dict[str, str]] = _field(default_factory=list)   # {"kind", "field", "detail"}
    unparsed: Dict[str, str] = _field(default_factory=dict)         # field -> text not understood

    def warn(self, kind: str, fld: str, detail: str = "") -> None:
        """Note a problem of ``kind`` in field ``fld``."""
        self.warnings.append({"kind": kind, "field": fld, "detail": detail[:300]})

    @property
    def warning_kinds(self) -> List[str]:
        """Distinct warning kinds, in first-seen order."""
        return list(dict.fromkeys(w["kind"] for w in self.warnings))

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Record":
        """Inverse of to_dict (unknown keys ignored)."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["ways"] = [Way(**w) for w in known.get("ways", [])]
        known["documents"] = [Document(**x) for x in known.get("documents", [])]
        return cls(**known)


def clean(value: Any) -> str:
    """A field's text, NFC, stripped; "" for missing, non-strings and "Không có thông tin"."""
    if not isinstance(value, str):
        return ""
    text = nfc(value).strip()
    return "" if text == NO_INFO or text.strip(" -.") == "" else text


def _squash(text: str) -> str:
    return " ".join(text.split())


def parse_ways(text: str) -> Tuple[List[Way], str, List[Tuple[str, str]]]:
    """Rows of the flattened "cách thức thực hiện" table, the text left over, and (warning kind, detail) pairs."""
    problems: List[Tuple[str, str]] = []
    body = nfc(text or "").strip()
    if body.startswith(WAYS_HEADER):
        body = body[len(WAYS_HEADER):]
    matches = list(_ROW.finditer(body))
    if not matches:
        return [], body.strip(), problems
    leftover = body[:matches[0].start()].strip()
    ways: List[Way] = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        rest = body[m.end():end]
        w = Way(way=m.group("way"), time_raw=m.group("time"))
        if m.group("time") == NO_INFO:
            w.time = None
        elif m.group("unit"):
            w.time = f"{m.group('num')} {m.group('unit').lower()}"
        else:
            problems.append((W_TIME_NO_UNIT, f"{w.way}: {m.group('num')}"))
        fee = _FEE.match(rest)
        if fee:
            value = fee.group("fee")
            w.fee = None if value == NO_INFO else _squash(value)
            rest = rest[fee.end():]
            if w.fee and w.fee != "Miễn phí" and rest.startswith("("):
                close = _matching_paren(rest)
                if close > 0:
                    w.fee_note = _squash(rest[1:close])
                    rest = rest[close + 1:]
        elif re.match(r"\s*(?:VNĐ|VND|Việt Nam Đồng)", rest):
            problems.append((W_FEE_NO_AMOUNT, f"{w.way}: {rest[:80]}"))
        else:
            problems.append((W_WAYS_UNPARSED, f"{w.way}: fee not recognised: {rest[:80]}"))
        desc = _squash(rest)
        w.description = "" if desc == NO_INFO else desc
        ways.append(w)
    if leftover:
        problems.append((W_WAYS_UNPARSED, leftover[:120]))
    return ways, leftover, problems


def _matching_paren(text: str) -> int:
    """Index of the parenthesis closing text[0] ("("), or -1."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i
    return -1


def parse_documents(text: str) -> Tuple[List[Document], str, List[Tuple[str, str]]]:
    """Papers of the flattened "thành phần hồ sơ" table(s), the text left over, and problems.

    Several tables may follow each other, each after a case heading ("Trường hợp ..."): the heading becomes the
    papers' ``group``. Every paper ends with its count ("1 bản chính"); text after the last count is left over.
    """
    problems: List[Tuple[str, str]] = []
    body = nfc(text or "").strip()
    docs: List[Document] = []
    leftovers: List[str] = []
    parts = body.split(DOCS_HEADER)
    group = ""
    for n, part in enumerate(parts):
        part = part.strip()
        if n == 0:
            group = _squash(part.strip("-: "))   # text before the first table: a heading, or nothing
            continue
        pos = 0
        tail = part
        for m in _COUNT.finditer(part):
            raw = part[pos:m.start()].strip()
            pos = m.end()
            raw = re.sub(r"^[a-zđ]\)\s*|^[-+•]\s*", "", raw).strip()
            if not raw:
                continue
            name, template = _split_template(raw)
            if template is None:
                problems.append((W_TEMPLATE_GLUED, raw[-80:]))
                name, template = raw, ""
            docs.append(Document(name=_squash(name).rstrip(" ;,"), count=_squash(m.group(0)),
                                 template=template, group=group))
        tail = part[pos:].strip()
        # the text after a table's last paper is the heading of the next table, or left over at the very end
        if n + 1 < len(parts):
            group = _squash(tail.strip("-: "))
        elif tail and tail.strip(" -.;") and tail != NO_INFO:
            leftovers.append(tail)
    if len(parts) == 1 and body and body != NO_INFO:
        leftovers.append(body)
    leftover = "\n".join(leftovers)
    if leftover:
        problems.append((W_DOCS_UNPARSED, leftover[:120]))
    return docs, leftover, problems


def _split_template(raw: str) -> Tuple[str, Optional[str]]:
    """(name, template file) when the paper names a form file; (raw, "") without one; (raw, None) when glued.

    The file name follows the paper's text. It starts where a lower-case letter is directly followed by a capital
    (the flattening glued "...liên quanMau 35.docx"; Vietnamese words are always separated by spaces), else after
    the last delimiter (";", ":", ")", or a full stop before a space or a capital: "...27/12/2021;Mus08.docx").
    """
    ext = _TEMPLATE.search(raw)
    if not ext:
        return raw, ""
    stem_end = ext.start()
    low = max(0, stem_end - 150)
    glue = [i for i in range(low + 1, stem_end) if raw[i].isupper() and raw[i - 1].isalpha() and raw[i - 1].islower()]
    if glue:
        return raw[:glue[-1]].strip(), raw[glue[-1]:].strip()
    for i in range(stem_end - 1, max(-1, stem_end - 90), -1):
        ch = raw[i]
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if ch in ";:)" or (ch == "." and (nxt == " " or nxt.isupper())):
            name, template = raw[:i + 1].strip(), raw[i + 1:].strip()
            return (name, template) if name else (raw, None)
    return raw, None


def parse_legal(text: str) -> List[str]:
    """Legal documents: the flattened "name+code" pairs split at each code ("68/2013/TT-BCA")."""
    body = nfc(text or "").strip()
    if body.startswith(LEGAL_HEADER):
        body = body[len(LEGAL_HEADER):]
    if not body or body == NO_INFO:
        return []
    code = re.compile(r"\d+/\d{4}/[A-ZĐ0-9][A-ZĐ0-9\-]*|\d+/[A-ZĐ]+\d*")
    out: List[str] = []
    pos = 0
    for m in code.finditer(body):
        name = body[pos:m.start()].strip()
        pos = m.end()
        out.append(_squash(f"{name} ({m.group(0)})" if name and m.group(0) not in name else name or m.group(0)))
    if body[pos:].strip():
        out.append(_squash(body[pos:]))
    return [x for x in out if x]


def parse_results(text: str) -> List[str]:
    """Names of the results ("Giấy chứng nhận ...Mã: KQ.G01.00262"), without the portal's trailing widgets."""
    body = nfc(text or "").split("Từ khóa")[0]
    return [_squash(m.group(1)) for m in _RESULT.finditer(body) if m.group(1).strip()]


def record_id(raw: Dict[str, Any]) -> str:
    """The record's id: its national code when well formed, else a slug of the portal page, else ""."""
    code = clean(raw.get("ma_thu_tuc"))
    if CODE_RE.match(code):
        return code
    url = clean(raw.get("detail_url"))
    slug = re.sub(r"[^0-9A-Za-z-]", "", url.rstrip("/").rsplit("/", 1)[-1])[:36]
    return f"u-{slug}" if slug else ""


def parse_record(raw: Dict[str, Any]) -> Record:
    """One national record, parsed tolerantly (never raises on odd content)."""
    code = clean(raw.get("ma_thu_tuc"))
    rec = Record(id=record_id(raw), code=code, name=_squash(clean(raw.get("ten_thu_tuc"))),
                 url=clean(raw.get("detail_url")))
    if not CODE_RE.match(code):
        rec.warn(W_BAD_CODE, "ma_thu_tuc", code)
    m = _RAW_CODE.search(nfc(raw.get("raw_text") or ""))
    if m and m.group(1) != code:
        rec.raw_code = m.group(1)
        rec.warn(W_CODE_MISMATCH, "ma_thu_tuc", f"{code} vs {m.group(1)} in raw_text")
    rec.levels = [x.strip() for x in clean(raw.get("cap_thuc_hien")).split(",") if x.strip()]
    rec.kind = clean(raw.get("loai_thu_tuc"))
    rec.field = clean(raw.get("linh_vuc"))
    rec.audience = clean(raw.get("doi_tuong_thuc_hien"))
    competent, executing = clean(raw.get("co_quan_co_tham_quyen")), clean(raw.get("co_quan_thuc_hien"))
    rec.agency = competent or executing
    rec.executing_agency = executing
    rec.address = _squash(clean(raw.get("dia_chi_tiep_nhan")))
    rec.steps = clean(raw.get("trinh_tu_thuc_hien"))
    rec.conditions = clean(raw.get("yeu_cau_dieu_kien"))
    rec.ministry = clean(raw.get("bo"))
    for fld, value in (("ten_thu_tuc", rec.name), ("cap_thuc_hien", rec.levels), ("linh_vuc", rec.field),
                       ("co_quan", rec.agency), ("detail_url", rec.url)):
        if not value:
            rec.warn(W_MISSING, fld)
    ways_text = clean(raw.get("cach_thuc_thuc_hien"))
    if ways_text:
        rec.ways, left, problems = parse_ways(ways_text)
        for kind, detail in problems:
            rec.warn(kind, "cach_thuc_thuc_hien", detail)
        if left or problems or not rec.ways:
            rec.unparsed["cach_thuc_thuc_hien"] = ways_text   # staff see the table as published
            if not rec.ways:
                rec.warn(W_WAYS_UNPARSED, "cach_thuc_thuc_hien", ways_text[:120])
    else:
        rec.warn(W_MISSING, "cach_thuc_thuc_hien")
    docs_text = clean(raw.get("thanh_phan_ho_so"))
    if docs_text:
        rec.documents, left, problems = parse_documents(docs_text)
        for kind, detail in problems:
            rec.warn(kind, "thanh_phan_ho_so", detail)
        if left or problems:
            rec.unparsed["thanh_phan_ho_so"] = docs_text
    else:
        rec.warn(W_MISSING, "thanh_phan_ho_so")
    rec.legal_basis = parse_legal(raw.get("can_cu_phap_ly") or "")
    rec.results = parse_results(raw.get("ket_qua_xu_ly") or "")
    return rec
