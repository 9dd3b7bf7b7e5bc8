"""Vietnamese date and time expressions: find spans and resolve them relative to ``now``.

dateparser 1.2.0 was measured on 22 citizen-style phrases (languages=["vi"], RELATIVE_BASE fixed):
12/22 right. It handles "hôm nay", "ngày mai", "hôm qua", weekdays, dd/mm(/yyyy) and "ngày 5 tháng 1", but
fails on every clock time ("9 giờ sáng", "2h chiều", "14g30", "9h30", "10 rưỡi"), on "mai", "ngày mốt",
"ngày kia", "sáng mai" and "thứ 2 tuần sau", and its search_dates() returns no usable spans (it turned
"lúc 9 giờ" into 01:00). So it is not used: the rules below cover its successes, and span conventions
("[sáng](time) [mai](date)", "[9 giờ sáng](time)") need our own matcher anyway.

Span conventions: part-of-day words are ``time`` and day words ``date``; a clock time keeps its part of
day in one span; "khoảng", "tầm", "lúc", "vào" stay outside. Matching runs on folded text (no diacritics,
lower case) so "chieu thu 6" works, but a word typed WITH diacritics must be the right word ("tôi" is not
"tối", "này" is not the date "nay", "thủ" is not "thứ").
"""
from vntext.datetime_vi.lexicon import DATE, PART_OF_DAY, TET_DATES, TIME
from vntext.datetime_vi.resolve import DateTimeEntity, find_datetimes, resolve_date, resolve_time

__all__ = ["DATE", "TIME", "PART_OF_DAY", "TET_DATES", "DateTimeEntity", "find_datetimes", "resolve_date",
           "resolve_time"]
