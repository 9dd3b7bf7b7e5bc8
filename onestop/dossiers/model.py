"""The dossier record, its status vocabulary, and what may be shown to whom.

Anyone holding the code on the receipt sees the public view (as on the public portals); the applicant's name
and phone number are personal data (Decree 13/2023, Law 91/2025) and appear only in the private view, after
the citizen proved the dossier is theirs (see `ownership`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional

from infra.clock import to_local
from infra.masking import mask_phone as infra_mask_phone
from infra.masking import mask_text


# Circular 01/2018/TT-VPCP art. 19: <unit code>-YYMMDD-XXXX. Unit codes differ between provinces and systems
# (000.00.11.H26, G22.39.16, ...), so the unit part is only constrained to dotted upper-case alphanumerics.
DOSSIER_CODE_RE = re.compile(
    r"^(?P<unit>[0-9A-Z]{1,6}(?:\.[0-9A-Z]{1,6}){1,6})-(?P<date>\d{6})-(?P<seq>\d{4})$"
)


class DossierStatus(str, Enum):
    """Status of a dossier, one-stop vocabulary (values are the API's wire names)."""

    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT_REQUIRED = "supplement_required"
    PAUSED = "paused"
    REJECTED = "rejected"
    FEE_DUE = "fee_due"
    SIGNING = "signing"
    READY = "ready"
    RETURNED = "returned"
    OVERDUE = "overdue"
    WITHDRAWN = "withdrawn"


STATUS_LABELS_VI: Dict[DossierStatus, str] = {
    DossierStatus.RECEIVED: "Vừa tiếp nhận",
    DossierStatus.PROCESSING: "Đang giải quyết",
    DossierStatus.SUPPLEMENT_REQUIRED: "Chờ bổ sung hồ sơ",
    DossierStatus.PAUSED: "Tạm dừng giải quyết",
    DossierStatus.REJECTED: "Bị từ chối giải quyết",
    DossierStatus.FEE_DUE: "Chờ nộp phí, lệ phí (nghĩa vụ tài chính)",
    DossierStatus.SIGNING: "Đang trình lãnh đạo ký",
    DossierStatus.READY: "Đã có kết quả, chờ trả",
    DossierStatus.RETURNED: "Đã trả kết quả",
    DossierStatus.OVERDUE: "Quá hạn hẹn trả kết quả",
    DossierStatus.WITHDRAWN: "Đã rút hồ sơ",
}

# Statuses after which nothing more will happen to the dossier (subscriptions can end).
TERMINAL_STATUSES = frozenset({DossierStatus.RETURNED, DossierStatus.REJECTED, DossierStatus.WITHDRAWN})

# Other one-stop systems name statuses differently; OpenCPS's names are the common ones in Vietnam.
_STATUS_ALIASES: Dict[str, DossierStatus] = {
    "new": DossierStatus.RECEIVED,
    "receiving": DossierStatus.RECEIVED,
    "waiting": DossierStatus.SUPPLEMENT_REQUIRED,
    "correcting": DossierStatus.SUPPLEMENT_REQUIRED,
    "paying": DossierStatus.FEE_DUE,
    "releasing": DossierStatus.READY,
    "done": DossierStatus.RETURNED,
    "cancelled": DossierStatus.WITHDRAWN,
    "denied": DossierStatus.REJECTED,
}


def parse_status(value: Any) -> DossierStatus:
    """Map a wire status (ours or an OpenCPS name) to DossierStatus; ValueError when unknown."""
    if isinstance(value, DossierStatus):
        return value
    text = str(value).strip().lower()
    try:
        return DossierStatus(text)
    except ValueError:
        pass
    if text in _STATUS_ALIASES:
        return _STATUS_ALIASES[text]
    raise ValueError(f"unknown dossier status: {value!r}")


def is_valid_code(code: str) -> bool:
    """True when ``code`` is a canonical dossier code whose YYMMDD part is a real date."""
    match = DOSSIER_CODE_RE.match(code or "")
    if not match:
        return False
    try:
        dt.datetime.strptime(match.group("date"), "%y%m%d")
    except ValueError:
        return False
    return True


def _patterns() -> Any:
    """vntext.patterns, or None when it is not there.

    Imported lazily: it belongs to the NLU side, and an ImportError at import time would stop the action
    server, which imports every module of the actions package.
    """
    try:
        from vntext import patterns
    except ImportError:
        return None
    return patterns


def canonical_code(text: str) -> str:
    """Best-effort canonical form of a code typed by a citizen (vntext.patterns when available)."""
    patterns = _patterns()
    if patterns is not None:
        found = patterns.normalize_dossier_code(text)
        if found:
            return found
    return re.sub(r"\s+", "", text or "").upper()


@dataclass
class Dossier:
    """One dossier as the one-stop system knows it."""

    code: str
    procedure_key: str
    procedure_name: str
    status: DossierStatus
    status_label_vi: str
    received_at: dt.date
    due_at: dt.date
    updated_at: dt.datetime
    office_name: str
    next_step_vi: str
    # repr=False: dossiers end up in logs and tracebacks; personal data must not.
    applicant_name: str = field(default="", repr=False)
    applicant_phone: str = field(default="", repr=False)
    missing_documents: List[str] = field(default_factory=list)
    fee_amount: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict with the API's field names (dates ISO 8601)."""
        return {
            "code": self.code,
            "procedure_key": self.procedure_key,
            "procedure_name": self.procedure_name,
            "status": self.status.value,
            "status_label_vi": self.status_label_vi,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "office_name": self.office_name,
            "next_step_vi": self.next_step_vi,
            "applicant_name": self.applicant_name,
            "applicant_phone": self.applicant_phone,
            "missing_documents": list(self.missing_documents),
            "fee_amount": self.fee_amount,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Dossier":
        """Build from the API's JSON shape; ValueError (or KeyError/TypeError) when it does not fit."""
        status = parse_status(data["status"])
        fee = data.get("fee_amount")
        if fee is not None and (isinstance(fee, bool) or not isinstance(fee, (int, float))):
            raise ValueError(f"fee_amount must be a number, got {fee!r}")
        missing = data.get("missing_documents") or []
        if not isinstance(missing, list):
            raise ValueError("missing_documents must be a list")
        return cls(
            code=str(data["code"]),
            procedure_key=str(data.get("procedure_key") or ""),
            procedure_name=str(data.get("procedure_name") or data.get("procedure_key") or ""),
            status=status,
            # Our label, not the remote one: the bot's wording stays consistent whatever the backend.
            status_label_vi=STATUS_LABELS_VI[status],
            received_at=_parse_date(data["received_at"]),
            due_at=_parse_date(data["due_at"]),
            updated_at=parse_datetime(data["updated_at"]),
            office_name=str(data.get("office_name") or ""),
            next_step_vi=str(data.get("next_step_vi") or ""),
            applicant_name=str(data.get("applicant_name") or ""),
            applicant_phone=str(data.get("applicant_phone") or ""),
            missing_documents=[str(x) for x in missing],
            fee_amount=int(fee) if fee is not None else None,
        )


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def parse_datetime(value: Any) -> dt.datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC so comparisons never mix kinds."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def ascii_digits(text: Optional[str]) -> str:
    """Every decimal digit in ``text`` as ASCII (phones type full-width ０-９ too), nothing else."""
    return "".join(str(unicodedata.decimal(ch)) for ch in (text or "") if ch.isdecimal())


def phone_digits(phone: str) -> str:
    """The digits of a phone number, +84 written as the domestic leading 0."""
    digits = ascii_digits(phone)
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits


def mask_phone(phone: str) -> str:
    """Phone with every digit after the prefix hidden (``091*******``): the proof asks for the last 4."""
    return infra_mask_phone(phone_digits(phone))


def _scrub(text: str, d: Dossier) -> str:
    """Remove personal data a backend may have written into free text: the applicant's name and phone,
    and any other mobile or ID number (infra.masking)."""
    if not text:
        return text
    out = unicodedata.normalize("NFC", text)
    name = unicodedata.normalize("NFC", d.applicant_name or "").strip()
    if len(name) >= 2:
        out = re.sub(re.escape(name), "người nộp hồ sơ", out, flags=re.IGNORECASE)
    digits = phone_digits(d.applicant_phone)
    if len(digits) >= 6:
        # Match the number however it was typed: 0912 000 045, 0912.000.045, +84 912 000 045.
        local = digits[1:] if digits.startswith("0") else digits
        pattern = r"(?:\+?84|0)[\s.\-]?" + r"[\s.\-]?".join(re.escape(c) for c in local)
        out = re.sub(pattern, "***", out)
    return mask_text(out)


def public_view(d: Dossier) -> Dict[str, Any]:
    """What anyone holding the code may see: the status and the dates, nothing else (issue 13)."""
    return {
        "code": d.code,
        "status": d.status.value,
        "status_label_vi": d.status_label_vi,
        "received_at": d.received_at.isoformat(),
        "due_at": d.due_at.isoformat(),
        "updated_at": d.updated_at.isoformat(),
    }


def private_view(d: Dossier) -> Dict[str, Any]:
    """Only after proof of ownership: the procedure, office, what to do, documents, fee, name and masked phone."""
    view = public_view(d)
    view.update({
        "procedure_key": d.procedure_key,
        "procedure_name": d.procedure_name,
        "office_name": d.office_name,
        "next_step_vi": _scrub(d.next_step_vi, d),
        "missing_documents": [_scrub(x, d) for x in d.missing_documents],
        "fee_amount": d.fee_amount,
        "applicant_name": d.applicant_name,
        "applicant_phone_masked": mask_phone(d.applicant_phone),
    })
    return view


def format_date_vi(value: dt.date) -> str:
    """dd/mm/yyyy, as printed on Vietnamese receipts."""
    return value.strftime("%d/%m/%Y")


def format_money_vi(amount: int) -> str:
    """1200000 -> '1.200.000 đồng'."""
    return f"{amount:,}".replace(",", ".") + " đồng"


PROOF_HINT = ("Thủ tục, nơi giải quyết, giấy tờ cần bổ sung, lệ phí và người nộp chỉ hiển thị sau khi anh/chị "
              "xác minh 4 số cuối của số điện thoại đã đăng ký trên hồ sơ.")


def _render_lines(d: Dossier, personal: bool) -> List[str]:
    updated = to_local(d.updated_at).strftime("%H:%M %d/%m/%Y")
    # Before the ownership proof, anyone holding the code sees the status and the dates, nothing else.
    lines = [f"Hồ sơ {d.code}", f"- Trạng thái: {d.status_label_vi}",
             f"- Ngày tiếp nhận: {format_date_vi(d.received_at)}",
             f"- Hẹn trả kết quả: {format_date_vi(d.due_at)}", f"- Cập nhật lúc: {updated}"]
    if not personal:
        return lines + [PROOF_HINT]
    view = private_view(d)
    lines[1:1] = [f"- Thủ tục: {d.procedure_name}"]
    lines.insert(-1, f"- Nơi giải quyết: {d.office_name}")
    lines.append(f"- Người nộp: {view['applicant_name']}")
    lines.append(f"- Số điện thoại đăng ký: {view['applicant_phone_masked']}")
    next_step = view["next_step_vi"] or ""
    # The next step usually names the documents and the amount already; say them once.
    missing = [x for x in view["missing_documents"] if x not in next_step]
    if missing:
        lines.append("- Giấy tờ cần bổ sung: " + "; ".join(missing))
    if d.fee_amount and format_money_vi(d.fee_amount) not in next_step:
        lines.append(f"- Số tiền cần nộp: {format_money_vi(d.fee_amount)}")
    if next_step:
        lines.append(f"Việc anh/chị cần làm: {next_step}")
    return lines


def render_public_vi(d: Dossier) -> str:
    """The public view as a chat message in Vietnamese: status and dates only (no personal data)."""
    return "\n".join(_render_lines(d, personal=False))


def render_private_vi(d: Dossier) -> str:
    """Everything: procedure, office, documents to supplement, fee, name, masked phone (after proof only)."""
    return "\n".join(_render_lines(d, personal=True))
