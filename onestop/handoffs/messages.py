"""What a citizen is told when the conversation goes to an officer, in and out of working hours."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from knowledge.hours import describe_next_opening, hours_text, now_local


def handoff_message(moment: Optional[dt.datetime] = None) -> str:
    """What the citizen is told when the conversation goes to an officer."""
    moment = moment or now_local()
    when = describe_next_opening(moment)
    return (
        "Tôi đã chuyển cuộc trò chuyện cho cán bộ một cửa. Cán bộ làm việc " + hours_text() + "; "
        f"cán bộ sẽ trả lời anh/chị {when}. Trong thời gian chờ, tôi tạm dừng trả lời tự động. "
        "Anh/chị cứ nhắn nội dung cần hỏi, cán bộ sẽ đọc được."
    )


def callback_offer_message(moment: Optional[dt.datetime] = None) -> str:
    """Out of working hours: the hand-off is recorded and a call-back number is asked for."""
    moment = moment or now_local()
    return (
        "Tôi đã chuyển yêu cầu của anh/chị cho cán bộ một cửa. Cán bộ làm việc " + hours_text() + ", nên sẽ liên hệ "
        f"anh/chị {describe_next_opening(moment)}. Anh/chị có thể để lại số điện thoại (và giờ tiện nghe máy) để "
        "cán bộ gọi lại."
    )
