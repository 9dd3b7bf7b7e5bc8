"""Deterministic demo dossiers for the embedded SQLite backend (demos, tests, README examples).

Everything is generated from a fixed seed date and a seeded RNG, so the same codes exist on every machine.
Names and phone numbers are invented demo values (0900 000 xxx / 0912 000 xxx); fee amounts and processing
times are illustrative, not the legal schedules. Unit codes follow the Hà Nội (H26) pattern but are
demo values.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from infra import clock
from onestop.dossiers.model import (
    STATUS_LABELS_VI,
    Dossier,
    DossierStatus,
    format_date_vi,
    format_money_vi,
)

log = logging.getLogger(__name__)

SEED_DATE = dt.date(2026, 11, 20)
RNG_SEED = 20261120
PER_STATUS = 6  # 11 statuses x 6 = 66 dossiers
REPO_ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_PROCEDURES = REPO_ROOT / "knowledge" / "procedures"

# Offices by kind: (unit code, office name). A ward's People's Committee and its police have different unit
# codes on the one-stop system.
OFFICES: Dict[str, List[Tuple[str, str]]] = {
    "commune": [
        ("000.00.11.H26", "Bộ phận một cửa UBND phường Ba Đình"),
        ("000.00.13.H26", "Bộ phận một cửa UBND phường Cầu Giấy"),
        ("000.00.17.H26", "Bộ phận một cửa UBND xã Đông Anh"),
    ],
    "commune_police": [
        ("000.20.11.H26", "Công an phường Ba Đình"),
        ("000.20.13.H26", "Công an phường Cầu Giấy"),
    ],
    "hcc_center": [
        ("000.00.00.H26", "Trung tâm Phục vụ hành chính công thành phố Hà Nội"),
    ],
    "province_police": [
        ("000.10.00.H26", "Công an thành phố Hà Nội (bộ phận một cửa)"),
    ],
}


@dataclass(frozen=True)
class DemoProcedure:
    """Seed facts about one procedure: fallback display name, receiving office kind, demo time and fee."""

    name: str
    office_kind: str
    working_days: int
    fee: Optional[int] = None
    land: bool = False


PROCEDURES: Dict[str, DemoProcedure] = {
    "khai_sinh": DemoProcedure("Đăng ký khai sinh", "commune", 1),
    "ket_hon": DemoProcedure("Đăng ký kết hôn", "commune", 3),
    "khai_tu": DemoProcedure("Đăng ký khai tử", "commune", 1),
    "xac_nhan_hon_nhan": DemoProcedure("Cấp giấy xác nhận tình trạng hôn nhân", "commune", 3),
    "nhan_cha_me_con": DemoProcedure("Đăng ký nhận cha, mẹ, con", "commune", 3),
    "trich_luc_ho_tich": DemoProcedure("Cấp bản sao trích lục hộ tịch", "commune", 1, 8_000),
    "nuoi_con_nuoi": DemoProcedure("Đăng ký nuôi con nuôi trong nước", "commune", 30),
    "cai_chinh_ho_tich": DemoProcedure(
        "Thay đổi, cải chính, bổ sung thông tin hộ tịch", "commune", 3, 15_000
    ),
    "chung_thuc_ban_sao": DemoProcedure("Chứng thực bản sao từ bản chính", "commune", 1, 6_000),
    "chung_thuc_chu_ky": DemoProcedure("Chứng thực chữ ký", "commune", 1, 10_000),
    "chung_thuc_hop_dong": DemoProcedure("Chứng thực hợp đồng, giao dịch", "commune", 2, 50_000),
    "ly_lich_tu_phap": DemoProcedure("Cấp phiếu lý lịch tư pháp", "province_police", 10, 200_000),
    "thuong_tru": DemoProcedure("Đăng ký thường trú", "commune_police", 7),
    "tam_tru": DemoProcedure("Đăng ký tạm trú", "commune_police", 3),
    "tam_vang": DemoProcedure("Khai báo tạm vắng", "commune_police", 1),
    "xac_nhan_cu_tru": DemoProcedure("Xác nhận thông tin về cư trú", "commune_police", 1),
    "cap_can_cuoc": DemoProcedure("Cấp thẻ căn cước", "commune_police", 7),
    "doi_can_cuoc": DemoProcedure("Cấp đổi, cấp lại thẻ căn cước", "commune_police", 7, 50_000),
    "giay_phep_xay_dung": DemoProcedure("Cấp giấy phép xây dựng nhà ở riêng lẻ", "commune", 15, 75_000),
    "thong_tin_quy_hoach": DemoProcedure("Cung cấp thông tin quy hoạch", "commune", 10),
    "thong_tin_dat_dai": DemoProcedure(
        "Cung cấp thông tin, dữ liệu đất đai", "hcc_center", 3, 300_000, land=True
    ),
    "cap_so_do_lan_dau": DemoProcedure("Cấp sổ đỏ lần đầu", "hcc_center", 20, 1_250_000, land=True),
    "chuyen_nhuong_dat": DemoProcedure(
        "Đăng ký chuyển nhượng quyền sử dụng đất", "hcc_center", 10, 4_600_000, land=True
    ),
    "ho_kinh_doanh": DemoProcedure("Đăng ký hộ kinh doanh", "commune", 3, 100_000),
    "tro_cap_that_nghiep": DemoProcedure("Hưởng trợ cấp thất nghiệp", "hcc_center", 20),
    "tro_cap_xa_hoi": DemoProcedure("Trợ cấp xã hội hàng tháng", "commune", 15),
    "mai_tang_phi": DemoProcedure("Hỗ trợ chi phí mai táng", "commune", 5),
    "doi_gplx": DemoProcedure("Đổi giấy phép lái xe", "province_police", 5, 135_000),
    "dang_ky_xe": DemoProcedure("Đăng ký, cấp biển số xe máy", "commune_police", 2, 1_000_000),
    "bhyt_tre_em": DemoProcedure(
        "Liên thông khai sinh, thường trú, thẻ BHYT cho trẻ dưới 6 tuổi", "commune", 5
    ),
    "ho_chieu": DemoProcedure("Cấp hộ chiếu phổ thông", "province_police", 8, 200_000),
    "chuyen_truong": DemoProcedure("Chuyển trường cho học sinh", "commune", 3),
}

SUPPLEMENT_DOCS: Dict[str, List[List[str]]] = {
    "khai_sinh": [
        ["Giấy chứng sinh (bản chính)"],
        ["Văn bản ủy quyền có chứng thực (người đi đăng ký thay)"],
    ],
    "ket_hon": [["Giấy xác nhận tình trạng hôn nhân của bên nam (nơi cư trú trước đây)"]],
    "khai_tu": [["Giấy báo tử hoặc giấy tờ thay giấy báo tử (bản chính)"]],
    "xac_nhan_hon_nhan": [["Bản sao quyết định ly hôn có hiệu lực"]],
    "nhan_cha_me_con": [["Văn bản của cơ sở y tế xác nhận quan hệ cha, con (kết quả giám định ADN)"]],
    "nuoi_con_nuoi": [["Giấy khám sức khỏe của người nhận con nuôi", "Văn bản xác nhận hoàn cảnh gia đình"]],
    "cai_chinh_ho_tich": [["Giấy tờ chứng minh thông tin cần cải chính (bản sao có chứng thực)"]],
    "ly_lich_tu_phap": [["Bản chụp thẻ căn cước rõ nét cả hai mặt"]],
    "thuong_tru": [["Giấy tờ chứng minh chỗ ở hợp pháp", "Ý kiến đồng ý của chủ hộ vào tờ khai"]],
    "tam_tru": [["Giấy tờ chứng minh chỗ ở hợp pháp (hợp đồng thuê nhà)"]],
    "giay_phep_xay_dung": [["Bản vẽ thiết kế mặt bằng, mặt cắt móng có chữ ký của đơn vị thiết kế"]],
    "cap_so_do_lan_dau": [
        ["Sơ đồ thửa đất có xác nhận của đơn vị đo đạc", "Giấy tờ về nguồn gốc sử dụng đất"]
    ],
    "chuyen_nhuong_dat": [["Hợp đồng chuyển nhượng đã công chứng (bản chính)"], ["Tờ khai lệ phí trước bạ"]],
    "ho_kinh_doanh": [["Bản sao hợp đồng thuê địa điểm kinh doanh"]],
    "tro_cap_that_nghiep": [["Quyết định thôi việc hoặc xác nhận chấm dứt hợp đồng lao động"]],
    "tro_cap_xa_hoi": [["Giấy xác nhận khuyết tật hoặc giấy tờ chứng minh đối tượng bảo trợ"]],
    "mai_tang_phi": [["Bản sao giấy chứng tử hoặc trích lục khai tử"]],
    "doi_gplx": [["Giấy khám sức khỏe người lái xe (còn hạn)"]],
    "dang_ky_xe": [["Chứng từ nguồn gốc xe (phiếu kiểm tra chất lượng xuất xưởng)"]],
    "ho_chieu": [["Ảnh chân dung nền trắng 4x6 cm, chụp không quá 6 tháng"]],
    "chuyen_truong": [["Học bạ (bản chính)", "Giấy giới thiệu chuyển trường của trường nơi đi"]],
}
GENERIC_SUPPLEMENT = [
    ["Tờ khai theo mẫu có đủ chữ ký của người yêu cầu"],
    ["Bản sao giấy tờ chứng minh nơi cư trú"],
]

PAUSE_REASONS = [
    "chờ kết quả xác minh của cơ quan liên quan",
    "chờ ý kiến của cơ quan phối hợp (thủ tục liên thông)",
]
LAND_PAUSE_REASON = "chờ kết quả đo đạc, kiểm tra thực địa"
REJECT_REASONS = [
    "hồ sơ không thuộc thẩm quyền giải quyết của cơ quan tiếp nhận",
    "hồ sơ không đáp ứng điều kiện theo quy định",
    "quá thời hạn bổ sung mà chưa nhận được giấy tờ bổ sung",
]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MALE = (
    ["Văn", "Đức", "Minh", "Hữu", "Quang"],
    ["An", "Bình", "Dũng", "Hải", "Khoa", "Long", "Nam", "Quân", "Sơn", "Tuấn"],
)
FEMALE = (
    ["Thị", "Thu", "Ngọc", "Thanh", "Minh"],
    ["Chi", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Phương", "Trang", "Yến"],
)

OFFICE_HOURS_VI = "thứ Hai - thứ Sáu, 8:00-11:30 và 13:30-17:00"

# Days before the seed date a dossier in this status may have been received.
_AGE_RANGE: Dict[DossierStatus, Tuple[int, int]] = {
    DossierStatus.RECEIVED: (0, 2),
    DossierStatus.PROCESSING: (1, 20),
    DossierStatus.SUPPLEMENT_REQUIRED: (2, 30),
    DossierStatus.PAUSED: (5, 40),
    DossierStatus.REJECTED: (3, 40),
    DossierStatus.FEE_DUE: (3, 40),
    DossierStatus.SIGNING: (1, 25),
    DossierStatus.READY: (1, 30),
    DossierStatus.RETURNED: (5, 59),
    DossierStatus.OVERDUE: (10, 59),
    DossierStatus.WITHDRAWN: (2, 59),
}
# Statuses where the appointment date has not passed yet.
_NOT_YET_DUE = {DossierStatus.RECEIVED, DossierStatus.PROCESSING, DossierStatus.SIGNING}


def add_working_days(start: dt.date, days: int) -> dt.date:
    """``start`` plus ``days`` Monday-Friday days (public holidays are ignored in demo data)."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _previous_working_day(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def default_next_step(
    status: DossierStatus,
    *,
    office_name: str,
    due_at: dt.date,
    missing_documents: Sequence[str] = (),
    fee_amount: Optional[int] = None,
    land: bool = False,
    reason: Optional[str] = None,
) -> str:
    """What the citizen must do next, in plain Vietnamese, for a dossier in ``status``."""
    due = format_date_vi(due_at)
    if status is DossierStatus.RECEIVED:
        return (
            f"Hồ sơ đã được tiếp nhận và đang chuyển đến bộ phận giải quyết. Anh/chị chưa cần làm gì thêm; "
            f"hẹn trả kết quả ngày {due}."
        )
    if status is DossierStatus.PROCESSING:
        return f"Cán bộ đang thẩm định hồ sơ. Anh/chị chưa cần làm gì thêm; kết quả dự kiến ngày {due}."
    if status is DossierStatus.SUPPLEMENT_REQUIRED:
        docs = "; ".join(missing_documents) or "giấy tờ theo thông báo của cơ quan giải quyết"
        return (
            f"Anh/chị cần bổ sung: {docs}. Nộp bổ sung trực tiếp tại {office_name} hoặc trên Cổng Dịch vụ "
            f"công quốc gia (mục Hồ sơ của tôi). Thời hạn giải quyết được tính lại từ khi nhận đủ giấy tờ."
        )
    if status is DossierStatus.PAUSED:
        why = reason or PAUSE_REASONS[0]
        return (
            f"Hồ sơ đang tạm dừng giải quyết để {why}. Cơ quan sẽ thông báo khi tiếp tục; anh/chị có thể "
            f"liên hệ {office_name} để biết thêm."
        )
    if status is DossierStatus.REJECTED:
        why = reason or REJECT_REASONS[1]
        return (
            f"Hồ sơ không được giải quyết vì {why}. Anh/chị nhận lại hồ sơ và văn bản trả lời tại "
            f"{office_name}; khi đủ điều kiện có thể nộp hồ sơ mới."
        )
    if status is DossierStatus.FEE_DUE:
        amount = format_money_vi(fee_amount) if fee_amount else "phí, lệ phí theo thông báo"
        if land:
            return (
                f"Anh/chị cần nộp {amount} (thuế, lệ phí trước bạ theo thông báo của cơ quan thuế): nộp trực "
                f"tuyến trên Cổng Dịch vụ công quốc gia (mục Thanh toán trực tuyến, nhập mã hồ sơ) hoặc tại "
                f"ngân hàng ghi trong thông báo, rồi giữ chứng từ để nhận kết quả tại {office_name}."
            )
        return (
            f"Anh/chị cần nộp {amount}: thanh toán trực tuyến trên Cổng Dịch vụ công quốc gia (mục Thanh "
            f"toán trực tuyến, nhập mã hồ sơ) hoặc nộp trực tiếp tại {office_name}. Kết quả được trả sau "
            f"khi nộp đủ."
        )
    if status is DossierStatus.SIGNING:
        return (
            f"Hồ sơ đã thẩm định xong, đang trình lãnh đạo ký. Anh/chị chưa cần làm gì thêm; "
            f"hẹn trả ngày {due}."
        )
    if status is DossierStatus.READY:
        return (
            f"Kết quả đã có. Anh/chị mang giấy tiếp nhận hồ sơ và hẹn trả kết quả cùng thẻ căn cước đến "
            f"{office_name} để nhận ({OFFICE_HOURS_VI}); người nhận thay cần giấy ủy quyền. Nếu đã đăng ký "
            f"nhận qua bưu chính, bưu điện sẽ giao tận nơi."
        )
    if status is DossierStatus.RETURNED:
        return "Hồ sơ đã hoàn tất và kết quả đã được trả. Anh/chị không cần làm gì thêm."
    if status is DossierStatus.OVERDUE:
        return (
            f"Hồ sơ đã quá ngày hẹn trả ({due}). Theo quy định, cơ quan giải quyết phải gửi phiếu xin lỗi và "
            f"hẹn lại ngày trả kết quả; anh/chị có thể liên hệ {office_name} hoặc phản ánh trên Cổng Dịch vụ "
            f"công quốc gia."
        )
    if status is DossierStatus.WITHDRAWN:
        return (
            "Hồ sơ đã được rút theo đề nghị của người nộp. "
            "Nếu vẫn cần thực hiện thủ tục, anh/chị nộp hồ sơ mới."
        )
    raise ValueError(status)


def load_procedure_names(directory: Optional[Path] = None) -> Dict[str, str]:
    """Display names from knowledge/procedures/<key>.yml (field ``name``) for the keys that have a file."""
    import yaml  # only needed when seeding; keeps the import of this module cheap

    directory = directory or KNOWLEDGE_PROCEDURES
    names: Dict[str, str] = {}
    for key in PROCEDURES:
        path = directory / f"{key}.yml"
        if not path.is_file():
            continue
        try:
            # libyaml when present: the pure-Python loader takes ~25 ms per procedure file.
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 - safe loader
        except (OSError, yaml.YAMLError) as exc:  # a broken knowledge file must not stop the demo store
            log.warning("cannot read %s: %s", path, exc)
            continue
        name = data.get("name") if isinstance(data, dict) else None
        if isinstance(name, str) and name.strip():
            names[key] = name.strip()
    return names


def _pick_name(rng: random.Random) -> str:
    middles, givens = MALE if rng.random() < 0.5 else FEMALE
    return f"{rng.choice(FAMILY)} {rng.choice(middles)} {rng.choice(givens)}"


def generate_demo_dossiers(
    seed_date: dt.date = SEED_DATE, names: Optional[Dict[str, str]] = None
) -> List[Dossier]:
    """The demo dossiers: PER_STATUS per status, deterministic for a given seed date."""
    names = names or {}
    rng = random.Random(RNG_SEED)
    keys = list(PROCEDURES)
    # Small fees (copies, signatures) are paid at the counter; only larger ones leave a dossier waiting.
    fee_keys = [k for k, p in PROCEDURES.items() if p.fee and p.fee >= 50_000]
    sequences: Dict[Tuple[str, dt.date], int] = {}
    phone_suffixes = rng.sample(range(1, 1000), len(DossierStatus) * PER_STATUS)
    out: List[Dossier] = []
    index = 0
    for _ in range(PER_STATUS):
        for status in DossierStatus:
            key = rng.choice(fee_keys if status is DossierStatus.FEE_DUE else keys)
            proc = PROCEDURES[key]
            unit, office = rng.choice(OFFICES[proc.office_kind])
            lo, hi = _AGE_RANGE[status]
            received = due = seed_date
            for _ in range(30):  # resample until the dates fit the status
                received = _previous_working_day(seed_date - dt.timedelta(days=rng.randint(lo, hi)))
                due = add_working_days(received, proc.working_days)
                if status in _NOT_YET_DUE and due < seed_date:
                    continue
                if status is DossierStatus.OVERDUE and due >= seed_date:
                    continue
                break
            if status in _NOT_YET_DUE and due < seed_date:
                received = _previous_working_day(seed_date)
                due = add_working_days(received, proc.working_days)
            seq_key = (unit, received)
            sequences[seq_key] = sequences.get(seq_key, rng.randint(0, 30)) + rng.randint(1, 4)
            code = f"{unit}-{received.strftime('%y%m%d')}-{sequences[seq_key]:04d}"

            # Last change: between receipt and the seed date, during office hours (Vietnam time).
            span = (seed_date - received).days
            changed_day = received + dt.timedelta(
                days=rng.randint(0, span) if status is not DossierStatus.RECEIVED else 0
            )
            changed_local = dt.datetime.combine(
                changed_day, dt.time(rng.randint(8, 16), rng.randint(0, 59)), clock.tz()
            )
            missing: List[str] = []
            fee: Optional[int] = None
            reason: Optional[str] = None
            if status is DossierStatus.SUPPLEMENT_REQUIRED:
                missing = list(rng.choice(SUPPLEMENT_DOCS.get(key, GENERIC_SUPPLEMENT)))
            elif status is DossierStatus.FEE_DUE:
                fee = proc.fee
            elif status is DossierStatus.PAUSED:
                reason = LAND_PAUSE_REASON if proc.land else rng.choice(PAUSE_REASONS)
            elif status is DossierStatus.REJECTED:
                reason = rng.choice(REJECT_REASONS)
            prefix = "0900000" if index % 2 == 0 else "0912000"
            out.append(
                Dossier(
                    code=code,
                    procedure_key=key,
                    procedure_name=names.get(key, proc.name),
                    status=status,
                    status_label_vi=STATUS_LABELS_VI[status],
                    received_at=received,
                    due_at=due,
                    updated_at=changed_local.astimezone(dt.timezone.utc),
                    office_name=office,
                    next_step_vi=default_next_step(
                        status,
                        office_name=office,
                        due_at=due,
                        missing_documents=missing,
                        fee_amount=fee,
                        land=proc.land,
                        reason=reason,
                    ),
                    applicant_name=_pick_name(rng),
                    applicant_phone=f"{prefix}{phone_suffixes[index]:03d}",
                    missing_documents=missing,
                    fee_amount=fee,
                )
            )
            index += 1
    return out


@functools.cache
def _demo_by_status() -> Dict[str, Tuple[str, ...]]:
    grouped: Dict[str, List[str]] = {s.value: [] for s in DossierStatus}
    for d in generate_demo_dossiers():
        grouped[d.status.value].append(d.code)
    return {k: tuple(v) for k, v in grouped.items()}


def demo_codes(per_status: int = 3) -> Dict[str, List[str]]:
    """A few seeded codes per status value (computed, no database needed)."""
    return {status: list(codes[:per_status]) for status, codes in _demo_by_status().items()}


def demo_dossier(code: str) -> Optional[Dossier]:
    """The seeded dossier with ``code`` (fallback procedure names), for tests needing its phone or status."""
    for d in generate_demo_dossiers():
        if d.code == code:
            return d
    return None
