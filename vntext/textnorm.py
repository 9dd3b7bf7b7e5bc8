"""Vietnamese text normalisation shared by the NLU pipeline and the knowledge search.

Everything here is pure Python (no Rasa, no model) so it is cheap to import anywhere.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Dict, Iterable, List, Tuple

# Chat shorthand citizens type, keyed by the lower-case token exactly as typed: a key is matched only
# when typed that way, so "hong" (không) expands while "hỏng" (broken) does not.
# Values are folded expansions; several words are separated by a single space.
SHORTHAND: Dict[str, str] = {
    # negation / question particles
    "ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "hong": "khong", "khg": "khong",
    "kg": "khong", "hem": "khong", "hông": "khong", "hk": "ho khau",
    "dc": "duoc", "đc": "duoc", "dk": "dang ky", "đk": "dang ky", "dky": "dang ky", "đky": "dang ky",
    "j": "gi", "ji": "gi", "gì": "gi",
    "bn": "bao nhieu", "bnh": "bao nhieu", "bnhiu": "bao nhieu", "bnhieu": "bao nhieu", "bao nhiu": "bao nhieu",
    "nhiu": "nhieu", "ntn": "nhu the nao", "bh": "bao gio", "bjo": "bao gio", "bgio": "bao gio",
    "z": "vay", "v": "vay", "r": "roi", "ns": "noi", "vs": "voi", "trc": "truoc", "ng": "nguoi",
    "mk": "minh", "mik": "minh", "mng": "moi nguoi", "e": "em",
    "ad": "admin", "add": "admin", "tks": "cam on", "thanks": "cam on", "thank": "cam on", "thx": "cam on",
    "camon": "cam on", "cmon": "cam on", "ok": "ok", "oke": "ok", "okie": "ok", "uk": "u", "uh": "u",
    "sdt": "so dien thoai", "sđt": "so dien thoai", "đt": "dien thoai", "dt": "dien thoai", "hs": "ho so", "tg": "thoi gian",
    "tgian": "thoi gian", "ngta": "nguoi ta", "cty": "cong ty", "tp": "thanh pho",
    # procedures and papers
    "cccd": "can cuoc cong dan", "cmnd": "chung minh nhan dan", "cmt": "chung minh nhan dan",
    "gks": "giay khai sinh", "lltp": "ly lich tu phap", "ltp": "ly lich tu phap", "gplx": "giay phep lai xe",
    "bhyt": "bao hiem y te", "bhxh": "bao hiem xa hoi", "gpxd": "giay phep xay dung", "ubnd": "uy ban nhan dan",
    "hkd": "ho kinh doanh", "dkkh": "dang ky ket hon", "đkkh": "dang ky ket hon", "tctn": "tro cap that nghiep",
    "dvc": "dich vu cong", "vneid": "vneid", "qsdd": "quyen su dung dat", "gcn": "giay chung nhan",
    "xntthn": "xac nhan tinh trang hon nhan", "đkkd": "dang ky kinh doanh", "dkkd": "dang ky kinh doanh",
}

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """Compose characters (NFC) so that one letter is one code point."""
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks; đ/Đ become d/D. Length may change only for odd input."""
    decomposed = unicodedata.normalize("NFD", text)
    out = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", out.replace("đ", "d").replace("Đ", "D"))


def fold(text: str) -> str:
    """Lower-case and strip diacritics: the diacritic-insensitive form used for matching."""
    return strip_diacritics(text).lower()


def fold_char(ch: str) -> str:
    """Fold one character to exactly one character (keeps offsets intact)."""
    folded = fold(ch)
    return folded if len(folded) == 1 else ch.lower()


def fold_keep_offsets(text: str) -> str:
    """Fold character by character so the result has the same length as ``text``."""
    return "".join(fold_char(c) for c in text)


def has_diacritics(text: str) -> bool:
    """True when the text contains at least one Vietnamese marked letter."""
    return fold(text) != text.lower()


_WORD = re.compile(r"\w+", re.UNICODE)


def expand_token(token: str) -> str:
    """Folded form of one token, expanded when it is known chat shorthand."""
    lowered = nfc(token).lower()
    return SHORTHAND.get(lowered) or fold(lowered)


def canonical_words(text: str) -> List[str]:
    """Folded, shorthand-expanded syllables of ``text`` (the lexical key for matching and features)."""
    words: List[str] = []
    for match in _WORD.finditer(nfc(text)):
        words.extend(expand_token(match.group()).split())
    return words


def canonical(text: str) -> str:
    """``canonical_words`` joined by single spaces."""
    return " ".join(canonical_words(text))


def squash_spaces(text: str) -> str:
    """Collapse runs of white space to one space and trim."""
    return _SPACES.sub(" ", text).strip()


def word_spans(text: str) -> Iterable[Tuple[int, int, str]]:
    """(start, end, word) for every run of word characters in ``text``."""
    for match in _WORD.finditer(text):
        yield match.start(), match.end(), match.group()


def fold_with_spans(text: str) -> Tuple[str, List[Tuple[int, int]]]:
    """Fold ``text`` and return, for every folded character, the (start, end) of its source in ``text``."""
    # Unlike fold_keep_offsets this survives decomposed (NFD) input and compatibility forms such as
    # full-width digits: combining marks are merged into their base character's span and NFKD maps
    # "１" to "1", so rules written for plain ASCII digits and folded words work on any input.
    out: List[str] = []
    spans: List[Tuple[int, int]] = []
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        while j < n and unicodedata.category(text[j]).startswith("M"):
            j += 1
        piece = unicodedata.normalize("NFKD", text[i:j].lower())
        piece = "".join(c for c in piece if not unicodedata.category(c).startswith("M")).replace("đ", "d")
        for c in piece:
            out.append(c)
            spans.append((i, j))
        i = j
    return "".join(out), spans


def source_span(spans: List[Tuple[int, int]], start: int, end: int) -> Tuple[int, int]:
    """Map a [start, end) range of a ``fold_with_spans`` string back to the original text."""
    if not spans or end <= start:
        pos = spans[start][0] if spans and start < len(spans) else (spans[-1][1] if spans else 0)
        return pos, pos
    return spans[start][0], spans[end - 1][1]
