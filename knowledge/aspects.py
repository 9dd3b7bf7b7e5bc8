"""Which aspect of a procedure a question asks about, from keyword rules on the canonical (folded) text.

Rules are tried in priority order; the first aspect with a matching pattern wins. The order encodes how citizens
combine cues: "có mất phí không" is about the fee even though it ends in "không", "làm ở phường được không" is about
the place, "xong rồi thì ..." asks what happens next (steps), a bare "được không" asks whether one is eligible.
"""
from __future__ import annotations

import re
from typing import List, Optional, Pattern, Tuple

from vntext.textnorm import canonical

ASPECTS = ("documents", "fee", "time", "place", "steps", "online", "eligibility", "general")

_NO = r"(?:khong|chua|hong)"
_PLACE_NOUN = (r"(?:phuong|xa|uy ban|ubnd|cong an|tinh|thanh pho|huyen|quan|trung tam|bo phan mot cua|mot cua|"
               r"cuc|so|chi nhanh|van phong|buu dien|noi (?:thuong tru|tam tru|cu tru|o|sinh|dang ky)|que|"
               r"dia phuong)")
_VERB = r"(?:nop|lam|xin|doi|cap|nhan|lay|chung thuc|sao y|dang ky|khai|gui|thi|hoc|dang ki)"

# (aspect, patterns) in priority order; patterns run on canonical text (folded, shorthand expanded).
RULES: List[Tuple[str, List[str]]] = [
    ("fee", [
        r"\ble phi\b", r"\b(?<!tang )phi\b(?! (?:hoai|cong))", r"\bmat tien\b", r"\bton tien\b", r"\bmien phi\b",
        r"\bchi phi\b", r"\b(?:nop|tra|dong|thu|het) (?:bao nhieu )?tien\b", r"\bhet bao nhieu\b",
        r"\btien (?:le )?phi\b", r"\btinh tien\b",
        r"\b(?:moi|mot|1) (?:trang|ban|to|bo) (?:la |thi )?(?:bao nhieu|het bao nhieu)\b",
        r"(?<!duoc )(?<!huong )(?<!cap )(?<!nhan )\bbao nhieu tien\b(?! (?:moi|1|mot) thang)",
        r"\bgia bao nhieu\b", r"\bco mat (?:tien|phi)\b", r"\bmat (?:bao nhieu|may)\b(?! (?:ngay|thang|tuan|lau))",
    ]),
    ("time", [
        r"\bbao lau\b", r"\bmat (?:bao nhieu|may) (?:ngay|thang|tuan)\b", r"\b(?:may|bao nhieu) (?:ngay|tuan|hom)\b",
        r"\bkhi nao\b", r"\bbao gio\b", r"\bthoi gian (?:giai quyet|lam|cho|tra|xu ly)\b", r"\bthoi gian\b",
        r"\bthoi han (?:giai quyet|tra|xu ly)\b", r"\blay (?:lien|ngay|luon)\b", r"\btrong ngay\b",
        r"\b(?:lau|nhanh) (?:khong|ko|k)\b", r"\bhen tra\b", r"\bngay nao\b", r"\bden han\b",
        r"\bmay (?:gio|hom)\b", r"\bhan chot\b",
    ]),
    ("online", [
        r"\bonline\b", r"\btruc tuyen\b", r"\bqua mang\b", r"\btren mang\b", r"\bvneid\b", r"\bdich vu cong\b",
        r"\bcong dvc\b", r"\binternet\b", r"\btoan trinh\b", r"\bdvc\b", r"\bqua (?:app|ung dung)\b",
        r"\bkhong can (?:den|len|ra)\b", r"\btai nha\b(?= .*\b(?:nop|lam|dang ky)\b)",
    ]),
    ("place", [
        r"\bo dau\b", r"\bnoi nao\b", r"\bco quan nao\b", r"\bden dau\b", r"\bdi dau\b", r"\bnop dau\b",
        r"\blam dau\b",
        rf"\b{_VERB}\b(?: \w+){{0,2}} (?:o|tai) cho nao\b", r"\bcho nao (?:lam|nop|cap|nhan)\b",
        r"\b(?:cong an|phuong|xa|ubnd|tinh) nao\b", r"\b(?:o|tai) \w+(?: \w+)? nao\b",
        rf"\b{_VERB}\b(?: \w+){{0,5}} (?:o|tai|len|ra|ve) {_PLACE_NOUN}\b",
        r"\b(?:o|tai) (?:ubnd|uy ban|cong an|bo phan mot cua|trung tam phuc vu)\b",
        r"\b(?:noi thuong tru|noi tam tru) hay\b", r"\bhay (?:noi|o) (?:thuong tru|tam tru)\b",
    ]),
    ("steps", [
        r"\bxong\b", r"\bcac buoc\b", r"\bbuoc nao\b", r"\bquy trinh\b", r"\btrinh tu\b",
        r"\bthu tuc (?:the nao|ra sao|nhu the nao|gom)\b", r"\blam (?:the nao|nhu the nao|sao|ra sao)\b",
        r"\bthe nao\b", r"\bnhu the nao\b", r"\bra sao\b", r"\bthi lam sao\b", r"\b(?:phai|can|se) lam gi\b",
        r"\bbat dau tu dau\b", r"\bhuong dan\b", r"\bcach (?:lam|dang ky|xin|nop)\b", r"\bbang cach nao\b",
    ]),
    ("eligibility", [
        r"\bdieu kien\b", r"\bdoi tuong\b", r"\bai (?:duoc|co the|phai|co quyen|dung ra|lam|di)\b",
        r"\bdu tuoi\b", r"\bbao nhieu tuoi\b", r"\bmay tuoi\b", r"\btu \d+ tuoi\b",
        rf"\bduoc {_NO}\b", r"\bduoc (?:ko|k)\b", r"\bduoc chua\b", r"\bduoc nua (?:khong|ko|k)\b",
        r"\bco duoc\b", r"\bco (?:\w+ ){1,2}duoc\b(?= .*\b(?:khong|ko|k|chua)\b)", r"\bduoc phep\b",
        r"\bco the\b(?= .*\b(?:khong|ko|k)\b)", r"(?<!tai )\bcho khong\b", r"\bco quyen\b",
        r"\bco can khong\b", r"\bduoc\b(?: (?!thi\b|ma\b)\w+){1,6} khong$",
        r"\bco (?:can|phai) (?:xin|dang ky|khai bao|xin phep)\b", r"\bbat buoc\b",
    ]),
    ("documents", [
        r"\bgiay to\b", r"\bgiay gi\b", r"\bho so (?:gom|gi|can|co nhung|nhung)\b", r"\bthanh phan ho so\b",
        r"\bcan (?:gi|nhung gi|nhung giay|mang|chuan bi|co gi)\b", r"\bnhung gi\b", r"\bmang (?:theo|gi|vao|nhung)\b", r"\bmang(?: \w+){1,3} theo\b",
        r"\bchuan bi\b", r"\bban (?:goc|photo|cong chung)\b", r"\bto khai\b", r"\bmau don\b",
        r"\b(?:co can|can|phai) (?:co )?(?:giay|ban|hop dong|xac nhan|quyet dinh|anh|the cu|to khai|don|so|"
        r"chung minh|van ban)\b",
        r"\bnhung loai\b", r"\bloai giay\b", r"\bchup anh\b(?= .*\bmang\b)", r"\bcan nhung\b",
    ]),
    ("steps", [
        r"\bco (?:can|phai) \w+(?: \w+){0,9} khong\b", r"\bco phai\b", r"\bcach\b",
        r"\bthu tuc\b",
    ]),
]

_COMPILED: Optional[List[Tuple[str, List[Pattern[str]]]]] = None


def _compiled() -> List[Tuple[str, List[Pattern[str]]]]:
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = [(aspect, [re.compile(p) for p in patterns]) for aspect, patterns in RULES]
    return _COMPILED


def detect_aspect(question: str) -> str:
    """The aspect a question asks about (one of ASPECTS), "general" when no rule fires."""
    return explain_aspect(question)[0]


def explain_aspect(question: str) -> Tuple[str, str]:
    """(aspect, matching cue) for a question; the cue is empty for "general"."""
    text = canonical(question)
    for aspect, patterns in _compiled():
        for pattern in patterns:
            m = pattern.search(text)
            if m:
                return aspect, m.group(0)
    return "general", ""


# Several aspects asked in one message ("mất bao lâu, có mất phí không"): each part's aspect, in order.
MAX_ASPECTS = 3  # a phone screen: beyond three answers the citizen is better served by the buttons
_SPLIT_RE = re.compile(r"[,;?!\n]+|\s(?:và|va|với|voi|còn|con|rồi|roi|hay|thêm|them)\s", re.IGNORECASE)


def aspects_in(text: str) -> List[str]:
    """The distinct aspects of the parts of ``text`` (split at commas and "và/với/còn..."), in reading order."""
    out: List[str] = []
    for part in _SPLIT_RE.split(text or ""):
        if len(part.split()) < 2:
            continue
        aspect = detect_aspect(part)
        if aspect != "general" and aspect not in out:
            out.append(aspect)
    return out[:MAX_ASPECTS]
