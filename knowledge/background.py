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
    "Cấp thị thực visa cho người nước ngoài nhập cảnh Việt Nam, gia hạn visa, miễn thị thực",
    "Thẻ tạm trú, thẻ thường trú cho người nước ngoài ở Việt Nam",
    "Xin visa đi du lịch, du học, lao động ở nước ngoài tại đại sứ quán",
    "Nhập quốc tịch Việt Nam, thôi quốc tịch, xác nhận có quốc tịch",
    # enterprises, tax, investment
    "Đăng ký thành lập doanh nghiệp, công ty trách nhiệm hữu hạn, công ty cổ phần, vốn điều lệ",
    "Thay đổi đăng ký doanh nghiệp, giải thể công ty, tạm ngừng kinh doanh của doanh nghiệp",
    "Đăng ký mã số thuế, kê khai thuế, quyết toán thuế thu nhập cá nhân, hóa đơn điện tử",
    "Đăng ký người phụ thuộc giảm trừ gia cảnh, hoàn thuế thu nhập cá nhân",
    "Giấy chứng nhận đăng ký đầu tư, dự án đầu tư nước ngoài",
    "Thủ tục hải quan xuất nhập khẩu hàng hóa, nhập khẩu xe ô tô, thuế nhập khẩu",
    "Giấy phép kinh doanh ngành nghề có điều kiện: rượu bia, karaoke, vũ trường, quán bar, xăng dầu, dược phẩm",
    "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm, vệ sinh an toàn thực phẩm",
    "Giấy phép phòng cháy chữa cháy, nghiệm thu PCCC cho cơ sở kinh doanh",
    # intellectual property, science, culture
    "Đăng ký nhãn hiệu, thương hiệu, logo, bảo hộ sở hữu trí tuệ",
    "Đăng ký sáng chế, kiểu dáng công nghiệp, bản quyền tác giả",
    "Cấp phép biểu diễn nghệ thuật, tổ chức sự kiện, lễ hội, quảng cáo ngoài trời",
    "Giấy phép xuất bản, báo chí, thành lập trang thông tin điện tử",
    # labour, pensions, insurance (other than those covered)
    "Cấp giấy phép lao động cho người nước ngoài làm việc tại Việt Nam",
    "Lương hưu, nghỉ hưu trước tuổi, chế độ hưu trí, rút bảo hiểm xã hội một lần",
    "Chế độ thai sản, ốm đau, tai nạn lao động của bảo hiểm xã hội",
    "Hợp đồng lao động, tranh chấp lao động, sa thải, tiền lương, làm thêm giờ",
    "Xuất khẩu lao động, đi làm việc ở nước ngoài theo hợp đồng",
    # professions and exams
    "Chứng chỉ hành nghề luật sư, công chứng viên, bác sĩ, dược sĩ, kiến trúc sư, môi giới bất động sản",
    "Thi tốt nghiệp trung học phổ thông, tuyển sinh đại học, văn bằng chứng chỉ, công nhận văn bằng nước ngoài",
    "Thi tuyển công chức, viên chức, nâng ngạch",
    # defence, security, justice
    "Đăng ký nghĩa vụ quân sự, khám tuyển nghĩa vụ quân sự, hoãn nghĩa vụ quân sự",
    "Giấy phép sử dụng vũ khí, công cụ hỗ trợ, pháo hoa",
    "Khởi kiện ra tòa án, ly hôn tại tòa án, chia tài sản, thi hành án dân sự",
    "Tố cáo tội phạm, trình báo mất trộm, báo công an khi bị lừa đảo",
    "Công chứng di chúc, thừa kế tại văn phòng công chứng",
    # transport (other than driving licence exchange and vehicle registration)
    "Xử phạt vi phạm giao thông, phạt nguội, nộp phạt, giữ xe vi phạm",
    "Đăng kiểm xe ô tô, kiểm định phương tiện, phí đường bộ",
    "Thi sát hạch bằng lái xe lần đầu, học lái xe ở trung tâm đào tạo",
    "Vé máy bay, vé tàu, thủ tục lên máy bay, hành lý",
    # agriculture, environment, land use other than the covered ones
    "Bảo hộ giống cây trồng, giống vật nuôi, kiểm dịch động vật thực vật",
    "Giấy phép môi trường, đánh giá tác động môi trường, xả thải, khai thác tài nguyên khoáng sản",
    "Xin phép chặt hạ, di dời cây xanh đô thị, đào đường, cấp phép đào vỉa hè",
    "Giấy phép khai thác thủy sản, đăng ký tàu cá",
    # health, education, social life
    "Khám chữa bệnh, đặt lịch khám bệnh viện, tiêm chủng vắc xin, mua thuốc",
    "Học phí, xin học bổng, học thêm",
    "Mở tài khoản ngân hàng, thẻ tín dụng, chuyển khoản, ví điện tử",
    "Tiền điện, tiền nước, internet, đăng ký sim điện thoại chính chủ",
    "Mua bán nhà chung cư, thuê nhà, giá đất, môi giới nhà đất",
    # everyday topics outside public services
    "Thời tiết hôm nay, dự báo mưa nắng",
    "Bóng đá, thể thao, kết quả trận đấu",
    "Nấu ăn, công thức món ăn, nhà hàng quán ăn ngon",
    "Du lịch, khách sạn, địa điểm tham quan, đặt tour",
    "Mua sắm online, giá điện thoại, sửa máy tính",
    "Sức khỏe, bệnh tật, giảm cân, tập thể dục",
    "Tình yêu, gia đình, tâm sự chuyện cá nhân",
    "Xổ số, chứng khoán, giá vàng, tỷ giá ngoại tệ",
]


def background_texts() -> List[str]:
    """The out-of-scope anchor texts."""
    return list(TOPICS)
