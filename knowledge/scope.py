"""Scope check: does the matched procedure cover what the question is about, or is it a look-alike?

The ranking always finds *some* procedure; a question about a karaoke licence still shares "giấy phép kinh doanh"
with household business registration. This check looks at the question's distinctive terms (syllables and
syllable pairs, diacritics folded, weighted by how rare they are across the curated procedures) that the matched
procedure's own text never uses, and asks whether an out-of-scope description uses them: a topic the knowledge base
does not cover (``background.py``) or a look-alike the procedure itself declares it is not for (``not_for:`` in its
YAML; such a line also declines when it matches the question clearly better than any of the procedure's names,
since the procedure's text may mention the look-alike to say it is different). Uncovered words that no out-of-scope
description knows ("mối ăn", "cổng chùa": details of a life event) do not count against the answer. Pure Python over
sets: a few tenths of a millisecond per question.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from vntext.textnorm import canonical_words

from .lexical import STOPWORDS

# Words that frame a question or name a kind of paper without saying what it is about: "thủ tục cấp giấy chứng
# nhận ... gồm những gì, nộp ở cơ quan nào, thời hạn bao lâu theo nghị định ...". They never count as topic.
FRAME: FrozenSet[str] = frozenset("""
thu tuc ho so giay to gom thanh phan thuc hien quy dinh nhu nao ra sao co quan o dau bao lau thoi han giai quyet
de nghi cap xin lam can nhung gi phai dieu kien trinh tu nop le phi phi muc hien nay phap luat luat nghi dinh
thong tu nam thang tuan duoc khong la cho biet hoi muon toi chung chau em anh chi con ong ba bo me
giay chung nhan phep dang ky moi lai lan dau tien bi viec tren duoi theo quy trinh buoc ket qua bao gio khi nao
huong dan cu the day du xin vui long kinh chao thua tu van giup tra loi tham quyen don vi truong hop
nguoi dan cong dan ca nhan to chuc voi thi co the hay
""".split()) | STOPWORDS


def _terms(text: str) -> Tuple[List[str], List[str]]:
    """(topic syllables, adjacent syllable pairs) of ``text``; pairs keep their frame words ("cong_chung")."""
    words = canonical_words(text)
    uni = [w for w in words if w not in FRAME and not w.isdigit()]
    # a pair of frame words can still name a topic ("công chứng", "hộ gia đình"); pairs every procedure uses
    # ("thủ tục", "hồ sơ") weigh nothing anyway
    pairs = [f"{a}_{b}" for a, b in zip(words, words[1:])
             if not (a in STOPWORDS and b in STOPWORDS) and not (a.isdigit() or b.isdigit())]
    return uni, pairs


def vocabulary(texts: Iterable[str]) -> Set[str]:
    """Every syllable and syllable pair of ``texts`` (folded, shorthand expanded)."""
    out: Set[str] = set()
    for t in texts:
        words = canonical_words(t)
        out.update(words)
        out.update(f"{a}_{b}" for a, b in zip(words, words[1:]))
    return out


@dataclass
class Anchor:
    """An out-of-scope description: a topic the base does not cover, or a look-alike of one procedure."""

    text: str
    owner: Optional[str]          # None: applies to every procedure
    terms: Set[str] = field(default_factory=set)


# A question this long (topic words) tells its circumstances too: a topic it mentions is context, not its subject.
LONG_STORY_WORDS = 40


@dataclass
class ScopeVerdict:
    """The outcome of the scope check for one (question, procedure)."""

    in_scope: bool
    reason: str = ""
    anchor: str = ""              # the out-of-scope description that matched, when declined
    foreign: float = 0.0          # weight of uncovered question terms an anchor uses
    foreign_terms: List[str] = field(default_factory=list)
    covered: float = 0.0          # share of the question's topic weight that the procedure's text uses
    anchor_share: float = 0.0     # share of the question's topic weight that the matched anchor uses
    lookalike: bool = False       # the anchor is one of the procedure's own not_for lines


@dataclass
class ScopeChecker:
    """Built once per knowledge base: per-procedure vocabularies, term weights and anchors."""

    vocab: Dict[str, Set[str]]
    anchors: List[Anchor]
    n_procedures: int
    df: Dict[str, int] = field(default_factory=dict)
    names: Dict[str, List[Set[str]]] = field(default_factory=dict)   # per procedure, the terms of each name/alias
    min_foreign: float = 0.55       # a declared look-alike: one fairly rare word the procedure never uses is enough
    min_foreign_topic: float = 1.3  # a general out-of-scope topic: more than one such word (one is often context)
    lookalike_margin: float = 1.0   # a not_for line must beat the best name by about one rare word

    def _evidence(self, hit: Sequence[str]) -> float:
        """Weight of the hit terms, one word counted once: overlapping pairs ("hop_tac", "tac_xa") are one word
        (their highest weight); a lone syllable counts only when no curated procedure uses it at all ("karaoke"):
        a syllable that some procedure uses is evidence only inside its pair ("luong" alone is not "lương hưu")."""
        pairs = sorted((t for t in hit if "_" in t), key=lambda t: t.split("_"))
        units: List[List[str]] = []
        for p in pairs:
            if units and set(units[-1][-1].split("_")) & set(p.split("_")):
                units[-1].append(p)
            else:
                units.append([p])
        inside = {w for p in pairs for w in p.split("_")}
        lone = [t for t in hit if "_" not in t and t not in inside and t not in self.df]
        return sum(max(self.weight(t) for t in u) for u in units) + sum(self.weight(t) for t in lone)

    def _closer_lookalike(self, key: str, terms: Sequence[str]) -> Optional[Tuple[Anchor, List[str], float]]:
        """A not_for line of ``key`` that the question's words match clearly better than any of its names: the
        procedure's own text may mention the look-alike ("hợp đồng mua bán nhà công chứng ở văn phòng công
        chứng"), so its words are not "uncovered", yet the question is about the look-alike."""
        names = self.names.get(key) or []
        named = max((self._evidence([t for t in terms if t in n]) for n in names), default=0.0)
        best: Optional[Tuple[Anchor, List[str], float]] = None
        for anchor in self.anchors:
            if anchor.owner != key:
                continue
            hit = [t for t in terms if t in anchor.terms]
            score = self._evidence(hit)
            if score >= named + self.lookalike_margin and (best is None or score > best[2]):
                best = (anchor, hit, score)
        return best

    @classmethod
    def build(cls, procedure_texts: Dict[str, Sequence[str]], not_for: Dict[str, Sequence[str]],
              background: Sequence[str], names: Optional[Dict[str, Sequence[str]]] = None) -> "ScopeChecker":
        """From each procedure's texts (sections, names, aliases, examples), its not_for lines, the topics and
        each procedure's names and aliases."""
        vocab = {k: vocabulary(texts) for k, texts in procedure_texts.items()}
        df: Dict[str, int] = {}
        for terms in vocab.values():
            for t in terms:
                df[t] = df.get(t, 0) + 1
        anchors = [Anchor(t, None, vocabulary([t])) for t in background]
        for key, lines in not_for.items():
            anchors += [Anchor(t, key, vocabulary([t])) for t in lines]
        alias_terms = {k: [vocabulary([a]) for a in v] for k, v in (names or {}).items()}
        return cls(vocab, anchors, max(len(vocab), 2), df, alias_terms)

    def weight(self, term: str) -> float:
        """1 for a term no curated procedure uses, falling to 0 for one every procedure uses."""
        d = self.df.get(term, 0)
        return math.log((self.n_procedures + 1) / (d + 1)) / math.log(self.n_procedures + 1)

    def check(self, query: str, key: str, named: bool = True) -> ScopeVerdict:
        """Is ``query`` about what procedure ``key`` covers (as far as its words tell)? ``named``: the question
        names the procedure (an alias is in it); otherwise one out-of-scope word is already enough."""
        own = self.vocab.get(key)
        if own is None:
            return ScopeVerdict(True)
        uni, pairs = _terms(query)
        terms = list(dict.fromkeys(uni + pairs))
        total = sum(self.weight(t) for t in terms) or 1.0
        covered = sum(self.weight(t) for t in terms if t in own) / total
        uncovered = [t for t in terms if t not in own]
        if not uncovered:
            return ScopeVerdict(True, covered=covered)
        best: Tuple[float, Optional[Anchor], List[str]] = (0.0, None, [])
        best_owned: Tuple[float, Optional[Anchor], List[str]] = (0.0, None, [])
        for anchor in self.anchors:
            if anchor.owner is not None and anchor.owner != key:
                continue
            hit = [t for t in uncovered if t in anchor.terms]
            if not hit:
                continue
            score = self._evidence(hit)
            if anchor.owner is not None and score > best_owned[0]:
                best_owned = (score, anchor, hit)
            elif anchor.owner is None and score > best[0]:
                best = (score, anchor, hit)
        topic_needed = self.min_foreign_topic if named else self.min_foreign
        for (score, anchor, hit), needed in ((best_owned, self.min_foreign), (best, topic_needed)):
            if anchor is not None and score >= needed:
                share = sum(self.weight(t) for t in terms if t in anchor.terms) / total
                if named and anchor.owner is None and len(uni) >= LONG_STORY_WORDS and share < covered:
                    continue  # a long story around a named procedure: the topic's words there are context
                what = ("a look-alike this procedure is not for" if anchor.owner
                        else "a topic outside the knowledge base")
                return ScopeVerdict(False, f"about {what}: {anchor.text}", anchor.text, score, hit, covered, share,
                                    anchor.owner is not None)
        lookalike = self._closer_lookalike(key, terms)
        if lookalike is not None:
            anchor, hit, score = lookalike
            return ScopeVerdict(False, f"about a look-alike this procedure is not for: {anchor.text}", anchor.text,
                                score, hit, covered, 0.0, True)
        score, anchor, hit = max(best, best_owned, key=lambda b: b[0])
        share = sum(self.weight(t) for t in terms if anchor is not None and t in anchor.terms) / total
        return ScopeVerdict(True, foreign=score, foreign_terms=hit, covered=covered, anchor_share=share)
