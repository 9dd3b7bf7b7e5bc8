"""The invented world demo dossiers are drawn from: offices, procedures with demo times and fees, papers, reasons, names.

Unit codes follow the Hà Nội (H26) pattern but are demo values; fee amounts and processing times are illustrative,
not the legal schedules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

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
