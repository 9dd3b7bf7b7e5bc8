"""Pattern entities in raw citizen text: dossier codes, booking codes, phone numbers, ID numbers.

Pure Python (no Rasa) so actions, logging and tests can reuse it. Every finder works on the folded
text from ``textnorm.fold_with_spans`` (lower case, full-width digits mapped to ASCII, decomposed
accents merged) and reports spans in the ORIGINAL text, so the span text is exactly what was typed.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Callable, List, NamedTuple, Optional, Tuple

from vntext.textnorm import fold_with_spans, source_span

DOSSIER_CODE = "dossier_code"
BOOKING_CODE = "booking_code"
PHONE = "phone"
ID_NUMBER = "id_number"
PATTERN_TYPES: Tuple[str, ...] = (DOSSIER_CODE, BOOKING_CODE, ID_NUMBER, PHONE)


class PatternEntity(NamedTuple):
    """One pattern entity: span in the original text, type, text as typed, normalized value."""

    start: int
    end: int
    entity: str
    text: str
    normalized: str


# --- dossier codes (Circular 01/2018/TT-VPCP art. 19: <unit code>-YYMMDD-XXXX) --------------------
# Citizens copy codes from paper receipts: dots become spaces or vanish, dashes gain spaces.
_DOT = r"(?:[ \t]*[.·][ \t]*|[ \t]+|)"
_DASH = r"(?:[ \t]*[-–—_][ \t]*|[ \t]+|)"
_UNIT_3_2_2 = rf"\d{{3}}{_DOT}\d{{2}}{_DOT}\d{{2}}{_DOT}[a-z]\d{{2}}"  # 000.00.11.H26
_UNIT_LETTER = rf"[a-z]\d{{2}}(?:{_DOT}\d{{2}}){{1,3}}"  # H26.22, G12.33.40
# Other unit-code shapes are accepted only when typed with explicit dots and dashes, because
# without separators they cannot be told apart from arbitrary digit runs.
_UNIT_OTHER = r"[a-z0-9]{1,4}(?:\.[a-z0-9]{1,4}){1,4}"
_DOSSIER_RE = re.compile(
    rf"(?<![\w.])(?:(?P<unit>{_UNIT_3_2_2}|{_UNIT_LETTER}){_DASH}(?P<date>\d{{6}}){_DASH}(?P<seq>\d{{4}})"
    rf"|(?P<ounit>{_UNIT_OTHER})[ \t]*-[ \t]*(?P<odate>\d{{6}})[ \t]*-[ \t]*(?P<oseq>\d{{4}}))(?![\w])"
)
_DOSSIER_3_2_2 = re.compile(r"(\d{3})(\d{2})(\d{2})([A-Z]\d{2})(\d{6})(\d{4})")
_DOSSIER_LETTER = re.compile(r"([A-Z]\d{2})((?:\d{2}){1,3})(\d{6})(\d{4})")
_DOSSIER_OTHER = re.compile(r"([A-Z0-9]{1,4}(?:\.[A-Z0-9]{1,4}){1,4})-(\d{6})-(\d{4})")

# --- booking codes: LH- + 6 letters/digits ------------------------------------------------------
_BOOKING_RE = re.compile(r"(?<![\w])lh(?P<sep>[ \t]*[-–—_][ \t]*|[ \t]+|)(?P<code>[a-z0-9]{6})(?![\w])")

# --- Vietnamese mobiles: 03x 05x 07x 08x 09x + 8 digits, optional +84 / 84 / 0084 ---------------
_PHONE_RE = re.compile(
    r"(?<![\d+])(?:(?:(?:\+|00)[ \t]*)?84[ \t.\-]*(?:\(0\)[ \t]*)?|0[ \t.\-]?)"
    r"(?P<first>[35789])(?P<rest>(?:[ \t]?[.\-]?[ \t]?\d){8})(?!\d)"
)
_PHONE_CLEAN = re.compile(r"(?:\+|00)?84(?:\(0\))?([35789]\d{8})|0([35789]\d{8})")

# --- 12-digit personal identification numbers --------------------------------------------------
# The first three digits are a province code (001-096), so a real ID number starts with 0; other
# 12-digit runs (bank accounts) are left alone.
_ID_RE = re.compile(
    r"(?<!\d)(?:0\d{11}"
    r"|(?P<g3>0\d{2}(?P<s3>[ .\-])\d{3}(?P=s3)\d{3}(?P=s3)\d{3})"
    r"|(?P<g4>0\d{3}(?P<s4>[ .\-])\d{4}(?P=s4)\d{4})"
    r"|(?P<g6>0\d{5}(?P<s6>[ .\-])\d{6}))(?!\d)"
)
_DIGIT_SEP_AFTER = re.compile(r"[ .\-]\d")

_NON_ALNUM = re.compile(r"[^0-9a-z]")
_NON_DIGIT = re.compile(r"\D")


def _valid_yymmdd(value: str) -> bool:
    """True when a YYMMDD string is a real calendar date (codes carry the receipt date)."""
    try:
        _dt.date(2000 + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return False
    return True


def _canonical_dossier(compact_upper: str) -> Optional[str]:
    """Canonical dotted form of a dossier code given without separators, or None."""
    match = _DOSSIER_3_2_2.fullmatch(compact_upper)
    if match:
        a, b, c, unit, day, seq = match.groups()
        return f"{a}.{b}.{c}.{unit}-{day}-{seq}" if _valid_yymmdd(day) else None
    match = _DOSSIER_LETTER.fullmatch(compact_upper)
    if match:
        unit, pairs, day, seq = match.groups()
        groups = [pairs[i:i + 2] for i in range(0, len(pairs), 2)]
        return f"{unit}.{'.'.join(groups)}-{day}-{seq}" if _valid_yymmdd(day) else None
    return None


def normalize_dossier_code(text: str) -> Optional[str]:
    """Canonical upper-case dossier code (``000.00.11.H26-241115-0007``), or None when invalid."""
    if not isinstance(text, str):
        return None
    folded, _ = fold_with_spans(text.strip())
    match = _DOSSIER_RE.fullmatch(folded)
    if not match:
        return None
    if match.group("unit"):
        return _canonical_dossier(_NON_ALNUM.sub("", folded).upper())
    cleaned = re.sub(r"\s+", "", folded).upper()
    if not _DOSSIER_OTHER.fullmatch(cleaned) or not _valid_yymmdd(match.group("odate")):
        return None
    # A dotted unit the strict shapes also cover is normalised the same way as the loose input.
    return _canonical_dossier(_NON_ALNUM.sub("", folded).upper()) or cleaned


def normalize_booking_code(text: str) -> Optional[str]:
    """Canonical booking code ``LH-XXXXXX`` (upper case), or None when invalid."""
    if not isinstance(text, str):
        return None
    folded, _ = fold_with_spans(text.strip())
    match = _BOOKING_RE.fullmatch(folded)
    return f"LH-{match.group('code').upper()}" if match else None


def normalize_phone(text: str) -> Optional[str]:
    """Vietnamese mobile number as 10 digits starting with 0 (``0912345678``), or None when invalid."""
    if not isinstance(text, str):
        return None
    folded, _ = fold_with_spans(text.strip())
    if not _PHONE_RE.fullmatch(folded):
        return None
    compact = re.sub(r"[ \t.\-]", "", folded)
    match = _PHONE_CLEAN.fullmatch(compact)
    if not match:
        return None
    return "0" + (match.group(1) or match.group(2))


def normalize_id_number(text: str) -> Optional[str]:
    """12-digit personal identification number (starts with 0) without separators, or None when invalid."""
    if not isinstance(text, str):
        return None
    folded, _ = fold_with_spans(text.strip())
    if not _ID_RE.fullmatch(folded):
        return None
    return _NON_DIGIT.sub("", folded)


def _scan(
    text: str,
    regex: "re.Pattern[str]",
    entity: str,
    normalizer: Callable[[str], Optional[str]],
    accept: Optional[Callable[["re.Match[str]", str, str], bool]] = None,
) -> List[PatternEntity]:
    """Run one regex over the folded text and return normalised spans in the original text."""
    if not isinstance(text, str) or not text:
        return []
    folded, spans = fold_with_spans(text)
    found: List[PatternEntity] = []
    for match in regex.finditer(folded):
        start, end = source_span(spans, match.start(), match.end())
        typed = text[start:end]
        if accept is not None and not accept(match, folded, typed):
            continue
        value = normalizer(typed)
        if value is not None:
            found.append(PatternEntity(start, end, entity, typed, value))
    return found


def find_dossier_codes(text: str) -> List[PatternEntity]:
    """All dossier codes in ``text`` (may overlap other pattern types; see find_pattern_entities)."""
    return _scan(text, _DOSSIER_RE, DOSSIER_CODE, normalize_dossier_code)


def _booking_plausible(match: "re.Match[str]", folded: str, typed: str) -> bool:
    """Reject "lh" + an ordinary 6-letter word: require a digit, a dash, or an upper-case code."""
    code = match.group("code")
    if any(ch.isdigit() for ch in code) or match.group("sep").strip():
        return True
    letters = [ch for ch in typed if ch.isalpha()]
    return bool(letters) and all(ch.isupper() for ch in letters)


def find_booking_codes(text: str) -> List[PatternEntity]:
    """All booking codes (``LH-7K2Q9M``, ``lh 7k2q9m``) in ``text``."""
    return _scan(text, _BOOKING_RE, BOOKING_CODE, normalize_booking_code, _booking_plausible)


def find_phones(text: str) -> List[PatternEntity]:
    """All Vietnamese mobile numbers in ``text`` (may overlap ID numbers; see find_pattern_entities)."""
    return _scan(text, _PHONE_RE, PHONE, normalize_phone)


def _id_isolated(match: "re.Match[str]", folded: str, typed: str) -> bool:
    """A grouped ID must not be one group of a longer grouped number such as "001 203 004 567 89"."""
    if match.group("g3") or match.group("g4") or match.group("g6"):
        after = folded[match.end():match.end() + 2]
        before = folded[max(0, match.start() - 2):match.start()]
        if _DIGIT_SEP_AFTER.fullmatch(after) or (len(before) == 2 and before[0].isdigit() and before[1] in " .-"):
            return False
    return True


def find_id_numbers(text: str) -> List[PatternEntity]:
    """All 12-digit ID numbers in ``text`` that are not part of a longer digit run."""
    return _scan(text, _ID_RE, ID_NUMBER, normalize_id_number, _id_isolated)


def find_pattern_entities(text: str) -> List[PatternEntity]:
    """Non-overlapping pattern entities sorted by position; codes win over IDs, IDs over phones."""
    try:
        candidates = (
            find_dossier_codes(text) + find_booking_codes(text) + find_id_numbers(text) + find_phones(text)
        )
    except Exception:  # a log line or a chat message must never fail on odd input
        return []
    chosen: List[PatternEntity] = []
    for cand in candidates:  # already in priority order
        if all(cand.end <= got.start or cand.start >= got.end for got in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda e: e.start)
