"""Fixed Vietnamese replies the connectors send without a bot turn."""
from __future__ import annotations

TEXT_ONLY = (
    "Dạ, hiện trợ lý chỉ đọc được tin nhắn chữ, chưa xem được {kind}. "
    "Bạn vui lòng gõ câu hỏi, ví dụ: \"làm căn cước cho con cần giấy tờ gì\" hoặc "
    "\"tra cứu hồ sơ\" kèm mã hồ sơ. Muốn tìm nơi nộp hồ sơ gần nhất, bạn có thể gửi vị trí."
)

KIND_NAMES = {
    "image": "hình ảnh",
    "photo": "hình ảnh",
    "sticker": "nhãn dán (sticker)",
    "gif": "ảnh động",
    "file": "tệp đính kèm",
    "audio": "tin nhắn thoại",
    "voice": "tin nhắn thoại",
    "video": "video",
    "link": "đường liên kết",
    "business_card": "danh thiếp",
    "template": "tin nhắn mẫu",
    "fallback": "nội dung này",
}

MORE_OPTIONS = "Các lựa chọn khác:"


def text_only_reply(kind: str) -> str:
    """The polite 'I read text only, please type ...' reply for an attachment of ``kind``."""
    return TEXT_ONLY.format(kind=KIND_NAMES.get(kind, "nội dung này"))
