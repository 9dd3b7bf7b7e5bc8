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
    # more families of the national catalogue that the 32 procedures do not cover (the scope check matches
    # their words; keep to words that name the family, not context words such as "ngân hàng" or "du lịch")
    "Doanh nghiệp: công ty TNHH, công ty cổ phần, vốn điều lệ, người đại diện theo pháp luật, chi nhánh, văn phòng "
    "đại diện, tạm ngừng kinh doanh, giải thể, phá sản, sáp nhập, hợp tác xã, tổ hợp tác",
    "Thuế: mã số thuế, tờ khai thuế, thuế giá trị gia tăng, thuế thu nhập doanh nghiệp, thuế thu nhập cá nhân, "
    "giảm trừ gia cảnh, người phụ thuộc, quyết toán, hoàn thuế, gia hạn nộp thuế, hóa đơn điện tử, lệ phí môn bài, "
    "thuế khoán, nợ thuế, cho thuê nhà, bán hàng online trên sàn thương mại điện tử",
    "Hải quan: tờ khai hải quan, thông quan, hàng xuất khẩu, hàng nhập khẩu, quà biếu, hành lý miễn thuế, ngoại "
    "tệ, xuất xứ hàng hóa, kiểm dịch, giám định, máy móc đã qua sử dụng, hàng xách tay, hàng order",
    "Ngân hàng và tiền tệ: giấy phép hoạt động ngân hàng, tổ chức tín dụng, ngoại hối, vàng miếng, kinh doanh vàng, "
    "chứng khoán, cổ phiếu, trái phiếu, bảo hiểm nhân thọ, kho bạc, quản lý nợ",
    "Ngành nghề kinh doanh có điều kiện: karaoke, vũ trường, cầm đồ, xoa bóp, massage, lữ hành, dịch vụ bảo vệ, "
    "rượu, bia, thuốc lá, xăng dầu, khí hóa lỏng LPG, phân bón, thuốc bảo vệ thực vật, trò chơi điện tử, "
    "internet, game, vàng bạc, khuyến mại, quay số trúng thưởng, thương mại điện tử, website, nhượng quyền",
    "Y tế và dược: giấy phép hành nghề khám bệnh, chữa bệnh, bác sĩ, phòng khám, nha khoa, nhà thuốc, quầy thuốc, "
    "dược sĩ, mỹ phẩm, thực phẩm chức năng, công bố sản phẩm, an toàn thực phẩm, bếp ăn tập thể, y học cổ truyền",
    "Giáo dục: thành lập trường mầm non, tiểu học tư thục, trung tâm ngoại ngữ, tin học, nhóm trẻ, liên kết đào "
    "tạo, đại học, thi tốt nghiệp trung học phổ thông, phúc khảo, văn bằng, công nhận bằng nước ngoài, học bổng",
    "Giao thông vận tải: giấy phép kinh doanh vận tải, phù hiệu, xe hợp đồng, đăng kiểm, xe máy chuyên dùng, "
    "giấy phép lưu hành xe quá tải, đường thủy nội địa, thuyền, tàu biển, bến, hàng hải, hàng không, sân bay, "
    "đường sắt, học lái xe, thi sát hạch",
    "Nông nghiệp và thủy sản: tàu cá, khai thác thủy sản, nuôi trồng thủy sản, thú y, chăn nuôi, trang trại, dịch "
    "bệnh, tiêu hủy gia súc, giống cây trồng, VietGAP, mã số vùng trồng, đóng gói nông sản, lâm nghiệp, kiểm lâm, "
    "gỗ, thủy lợi, đê điều, phòng chống thiên tai",
    "Tài nguyên và môi trường: giấy phép môi trường, đánh giá tác động môi trường, đăng ký môi trường, xả nước "
    "thải, tài nguyên nước, khai thác khoáng sản, cát, sỏi, biển, hải đảo, khí tượng thủy văn, biến đổi khí hậu, "
    "tín chỉ các-bon, đo đạc bản đồ",
    "Lao động việc làm: giấy phép lao động cho người nước ngoài, hợp đồng lao động, thỏa ước lao động tập thể, "
    "cho thuê lại lao động, đưa người lao động đi làm việc ở nước ngoài, tranh chấp lao động, hòa giải viên, sa "
    "thải, đơn phương chấm dứt hợp đồng, bồi thường, an toàn vệ sinh lao động, tai nạn lao động",
    "Bảo hiểm xã hội: lương hưu, nghỉ hưu, bảo hiểm xã hội một lần, bảo hiểm xã hội tự nguyện, thai sản, ốm đau, "
    "dưỡng sức, sẩy thai, chốt sổ, gộp sổ, mã số bảo hiểm xã hội, VssID, giám định suy giảm khả năng lao động",
    "Tư pháp và bổ trợ tư pháp: công chứng viên, văn phòng công chứng, luật sư, thừa phát lại, giám định tư pháp, "
    "trợ giúp pháp lý, đấu giá tài sản, trọng tài, hòa giải thương mại, quản tài viên, thi hành án dân sự, bồi "
    "thường nhà nước, di chúc, chia di sản, thời hiệu",
    "Khiếu nại, tố cáo, xử phạt vi phạm hành chính, khởi kiện vụ án hành chính, tòa án, kháng cáo, tiếp công dân",
    "Quốc phòng và an ninh: nghĩa vụ quân sự, nhập ngũ, tạm hoãn gọi nhập ngũ, khám tuyển, quân nhân dự bị, xuất "
    "ngũ, vũ khí, pháo, con dấu, an ninh trật tự, phòng cháy chữa cháy, xuất cảnh, tạm hoãn xuất cảnh, lừa đảo",
    "Người nước ngoài và quốc tịch: thị thực, miễn thị thực, thẻ tạm trú, thẻ thường trú người nước ngoài, nhập "
    "quốc tịch, thôi quốc tịch, trở lại quốc tịch, người gốc Việt Nam, định cư, giấy miễn thị thực",
    "Xuất nhập cảnh khác: giấy thông hành biên giới, hộ chiếu công vụ, hộ chiếu ngoại giao, thị thực, visa, "
    "xuất cảnh, nhập cảnh, cửa khẩu",
    "Tôn giáo, tín ngưỡng, hội, quỹ xã hội, thi đua khen thưởng: bằng khen, huân chương, danh hiệu nghệ nhân, nhà "
    "giáo ưu tú, Bà mẹ Việt Nam anh hùng, liệt sĩ, thương binh, người có công, Tổ quốc ghi công",
    "Văn hóa, thể thao, du lịch: phòng tập thể dục thể thao, gym, yoga, bể bơi, võ thuật, thẻ hướng dẫn viên du "
    "lịch, di sản văn hóa, biểu diễn nghệ thuật, quảng cáo, "
    "xuất bản, báo chí, phát thanh, bưu chính, viễn thông, tần số vô tuyến, an toàn thông tin, dữ liệu cá nhân",
    "Xây dựng và bất động sản: chứng chỉ hành nghề xây dựng, môi giới bất động sản, sàn giao dịch, nhà ở xã hội, "
    "nhà ở công vụ, chung cư, dự án đầu tư, nhà xưởng, khu công nghiệp, khu kinh tế, kiến trúc, hạ tầng kỹ thuật",
    "Đầu tư, đấu thầu, tài sản công, giá: giấy chứng nhận đăng ký đầu tư, nhà đầu tư nước ngoài, đầu tư ra nước "
    "ngoài, đối tác công tư, ODA, đấu thầu, quản lý giá, tài sản công, ngân sách",
    "Tiêu dùng và đời sống: bảo vệ quyền lợi người tiêu dùng, bảo hành, trả góp, điện mặt trời mái nhà, điện, "
    "nước sinh hoạt, cấp nước, thoát nước, rác thải, cây xanh, chiếu sáng",
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
