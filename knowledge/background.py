"""Out-of-scope anchors: short descriptions of services and topics the knowledge base does NOT cover.

They are indexed like procedure chunks under the pseudo key ``_oos``: when a question is closer to one of them than
to any procedure (lexically or by meaning), that is evidence for declining. They are never shown as results. The
list names whole families of public services that other agencies handle, plus everyday topics outside public
services; it must not describe any procedure of the knowledge base.
"""
from __future__ import annotations

from typing import List

OOS_KEY = "_oos"

TOPICS: List[str] = [
    # entry, exit and foreigners
    "Thị thực, visa cho người nước ngoài vào Việt Nam, gia hạn thị thực, miễn thị thực",
    "Thẻ tạm trú, thường trú của người nước ngoài, người nước ngoài cư trú tại Việt Nam",
    "Xin visa, thị thực của nước ngoài tại đại sứ quán để đi du lịch, du học",
    "Quốc tịch: nhập, thôi, trở lại quốc tịch Việt Nam",
    # enterprises, tax, trade
    "Đăng ký doanh nghiệp, thành lập công ty, thay đổi, giải thể doanh nghiệp",
    "Thuế: mã số thuế, khai thuế, quyết toán thuế thu nhập cá nhân, hoàn thuế, hóa đơn",
    "Đầu tư: giấy chứng nhận đăng ký đầu tư, dự án đầu tư",
    "Hải quan, xuất khẩu, nhập khẩu hàng hóa, thuế xuất nhập khẩu",
    "Giấy phép cho ngành nghề kinh doanh có điều kiện, giấy phép con",
    "An toàn thực phẩm, phòng cháy chữa cháy cho cơ sở sản xuất kinh doanh",
    # intellectual property, culture, media
    "Sở hữu trí tuệ: đăng ký nhãn hiệu, sáng chế, bản quyền tác giả",
    "Văn hóa, thể thao, du lịch: cấp phép sự kiện, lễ hội, quảng cáo",
    "Báo chí, xuất bản, trang thông tin điện tử, viễn thông",
    # labour and social insurance (other than those covered)
    "Giấy phép lao động cho người nước ngoài làm việc tại Việt Nam",
    "Lương hưu, chế độ hưu trí, bảo hiểm xã hội một lần",
    "Chế độ thai sản, ốm đau, tai nạn lao động, bệnh nghề nghiệp",
    "Hợp đồng lao động, tiền lương, tranh chấp với người sử dụng lao động",
    "Đi làm việc ở nước ngoài theo hợp đồng, xuất khẩu lao động",
    # professions, education, civil service
    "Chứng chỉ hành nghề, cấp phép hành nghề cho các ngành nghề chuyên môn",
    "Thi cử, tuyển sinh, văn bằng, chứng chỉ, công nhận văn bằng",
    "Tuyển dụng công chức, viên chức",
    # defence, security, justice
    "Nghĩa vụ quân sự, quân nhân dự bị",
    "Vũ khí, vật liệu nổ, công cụ hỗ trợ",
    "Tòa án: khởi kiện, xét xử, ly hôn, tranh chấp tài sản, thi hành án",
    "Trình báo công an về tội phạm, lừa đảo, mất cắp",
    "Văn phòng công chứng: công chứng di chúc, văn bản thừa kế",
    # transport (other than driving licence exchange and vehicle registration)
    "Vi phạm giao thông, xử phạt, nộp phạt",
    "Đăng kiểm, kiểm định phương tiện giao thông",
    "Học và thi sát hạch lái xe lần đầu",
    "Hàng không, đường sắt: vé, chuyến bay, hành lý",
    # agriculture, environment, resources
    "Nông nghiệp: giống cây trồng, vật nuôi, thú y, kiểm dịch",
    "Môi trường, tài nguyên, khoáng sản, nước thải",
    "Thủy sản, tàu cá, lâm nghiệp",
    "Quản lý đô thị: chiếu sáng, thoát nước, vệ sinh đường phố",
    # health, services, private life
    "Y tế: khám chữa bệnh, bệnh viện, tiêm chủng, thuốc",
    "Ngân hàng: tài khoản, thẻ, chuyển khoản, ví điện tử",
    "Điện, nước, internet, sim điện thoại",
    "Bất động sản: mua bán, cho thuê nhà, giá nhà đất",
    # everyday topics outside public services
    "Thời tiết, dự báo mưa nắng",
    "Bóng đá, thể thao, kết quả trận đấu",
    "Nấu ăn, món ăn, nhà hàng",
    "Du lịch, khách sạn, tour, địa điểm vui chơi",
    "Mua sắm, giá cả hàng hóa, điện thoại, máy tính",
    "Sức khỏe, bệnh tật, giảm cân, tập luyện",
    "Tình cảm, gia đình, chuyện cá nhân",
    "Xổ số, chứng khoán, giá vàng, tỷ giá",
]


def background_texts() -> List[str]:
    """The out-of-scope anchor texts."""
    return list(TOPICS)
