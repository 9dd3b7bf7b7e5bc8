"""BM25 over folded, shorthand-expanded syllables and syllable bigrams (insensitive to diacritics and chat shorthand)."""
from __future__ import annotations

import math
from collections import Counter
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import numpy as np

from vntext.textnorm import SHORTHAND, canonical_words, fold, has_diacritics, nfc, word_spans

# Folded function words and chat particles: they carry no topic, so they do not count in query coverage.
STOPWORDS: FrozenSet[str] = frozenset("""
a ah ak ad admin anh chi em minh toi to tui ban mk ng nguoi oi nhe nha nhen voi vay the thi la ma va hay hoac
co khong ko k duoc dc roi chua nua cung da dang se can phai muon hoi cho xin giup lam gi nao sao bao nhieu
may khi o tai den di ve tu trong ngoai cua nay do kia ay vao ra len xuong thoi luon ngay mot hai cac nhung
nhu theo de sau truoc gio bay u uh ok cam on ho ha huhu vs
""".split())


def tokens(text: str, bigrams: bool = True) -> List[str]:
    """Lexical terms of ``text``: canonical syllables plus adjacent-syllable bigrams ("khai_sinh")."""
    words = canonical_words(text)
    if not bigrams:
        return words
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:])]


def content_words(text: str) -> List[str]:
    """Canonical syllables of ``text`` without stop words."""
    return [w for w in canonical_words(text) if w not in STOPWORDS]


def identity_words(alias: str) -> List[str]:
    """Canonical syllables of a procedure name or alias without function words (all of them if nothing is left)."""
    words = canonical_words(alias)
    return [w for w in words if w not in STOPWORDS] or words


def query_tokens(text: str) -> List[Tuple[str, Optional[str]]]:
    """(folded syllable, accented lower-case spelling or None) for each canonical syllable of ``text``.

    The spelling is None when the word was typed without marks or came from shorthand expansion.
    """
    out: List[Tuple[str, Optional[str]]] = []
    for _, _, word in word_spans(nfc(text)):
        lowered = word.lower()
        expansion = SHORTHAND.get(lowered)
        if expansion:
            out.extend((w, None) for w in expansion.split())
            continue
        for part in fold(lowered).split():
            out.append((part, lowered if has_diacritics(lowered) and " " not in fold(lowered) else None))
    return out


def accented_vocabulary(texts: Sequence[str]) -> Dict[str, Set[str]]:
    """folded syllable -> the spellings used for it in the texts written with diacritics.

    In such a text an unmarked word is a real spelling too ("mua" in "mua bán" is not "mưa"); texts written
    without any diacritics tell nothing about spelling and are skipped.
    """
    vocab: Dict[str, Set[str]] = {}
    for text in texts:
        if not has_diacritics(text):
            continue
        for _, _, word in word_spans(nfc(text)):
            lowered = word.lower()
            if lowered in SHORTHAND:
                continue
            folded = fold(lowered)
            if " " not in folded:
                vocab.setdefault(folded, set()).add(lowered)
    return vocab


class BM25:
    """Okapi BM25 over a fixed list of documents; scores every document for a query.

    ``b`` is low (0.3) because chunks range from 2-word aliases to long sections: full length normalisation
    lets short lines that share only question words ("... ở đâu") outrank the section that names the topic.
    """

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.3, bigrams: bool = True):
        self.k1, self.b, self.bigrams = k1, b, bigrams
        self.n_docs = len(documents)
        doc_terms = [Counter(tokens(d, bigrams)) for d in documents]
        lengths = np.array([sum(c.values()) for c in doc_terms], dtype=np.float32)
        self.avg_len = float(lengths.mean()) if len(lengths) else 1.0
        df: Counter = Counter()
        for c in doc_terms:
            df.update(c.keys())
        self.df: Dict[str, int] = dict(df)
        norm = k1 * (1 - b + b * lengths / max(self.avg_len, 1e-9))
        postings: Dict[str, List[Tuple[int, float]]] = {}
        for i, c in enumerate(doc_terms):
            for term, tf in c.items():
                postings.setdefault(term, []).append((i, tf * (k1 + 1) / (tf + norm[i])))
        self._postings = {t: (np.array([i for i, _ in p], dtype=np.int32), np.array([w for _, w in p],
                                                                                  dtype=np.float32))
                          for t, p in postings.items()}

    def idf(self, term: str) -> float:
        """Robertson-Sparck Jones IDF (always > 0); unseen terms get the highest value."""
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for ``query`` (unique query terms)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in set(tokens(query, self.bigrams)):
            posting = self._postings.get(term)
            if posting is not None:
                ids, weights = posting
                out[ids] += self.idf(term) * weights
        return out
