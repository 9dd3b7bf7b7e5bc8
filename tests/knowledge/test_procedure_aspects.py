"""Several aspects in one message are found in reading order."""
from __future__ import annotations

from knowledge.aspects import aspects_in


def test_aspects_in_reading_order() -> None:
    assert aspects_in("mất mấy ngày, có tốn phí không") == ["time", "fee"]
    assert aspects_in("cần giấy tờ gì, nộp ở đâu, bao lâu thì xong, lệ phí bao nhiêu") == ["documents", "place",
                                                                                         "time"]
    assert aspects_in("lệ phí bao nhiêu") == ["fee"] and aspects_in("chào ad") == []
