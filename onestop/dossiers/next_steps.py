"""What a citizen must do next for a dossier in each status, in plain polite Vietnamese."""
from __future__ import annotations

import datetime as dt
from typing import Optional, Sequence

from onestop.dossiers.demo_catalogue import PAUSE_REASONS, REJECT_REASONS
from onestop.dossiers.model import DossierStatus, format_date_vi, format_money_vi

OFFICE_HOURS_VI = "thứ Hai - thứ Sáu, 8:00-11:30 và 13:30-17:00"


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
