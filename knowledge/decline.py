"""The decline decision: does the best procedure really answer the question, or is it outside the knowledge base?"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple


@dataclass
class Features:
    """Evidence about the top-ranked procedure (0 when a half is not used by the mode)."""

    n_words: float = 0.0        # content syllables in the question
    fused_margin: float = 0.0   # fused score of top-1 minus top-2
    alias_match: float = 0.0    # 1.0 when an alias of the top procedure appears whole in the question
    lex_top: float = 0.0        # BM25 of the top procedure's best chunk
    lex_bg: float = 0.0         # BM25 of the best out-of-scope anchor
    lex_margin: float = 0.0     # BM25 top-1 minus top-2 procedure
    cov_top: float = 0.0        # IDF share of question syllables found in the top procedure's text
    cov_kb: float = 0.0         # IDF share of question syllables found anywhere in the knowledge base
    dense_top: float = 0.0      # cosine of the top procedure's best chunk
    dense_best: float = 0.0     # best cosine of any procedure
    dense_margin: float = 0.0   # dense top-1 minus top-2 procedure
    dense_bg: float = 0.0       # best cosine of an out-of-scope anchor
    dense_vs_bg: float = 0.0    # dense_top - dense_bg


@dataclass
class DeclineModel:
    """Hand-tuned rule over the features; thresholds are fields so tests and tuning can change them."""

    min_alias: float = 0.5
    min_cov_top: float = 0.45
    min_dense_vs_bg: float = 0.0
    min_lex_top: float = 4.0

    def decide(self, f: Features, mode: str = "hybrid") -> Tuple[bool, str]:
        """(declined, reason) for the features of the top procedure."""
        if f.n_words == 0:
            return True, "no content words in the question"
        if mode == "bm25":
            if f.lex_top < self.min_lex_top:
                return True, f"weak lexical match ({f.lex_top:.1f})"
            if f.alias_match < self.min_alias and f.cov_top < self.min_cov_top:
                return True, "the question's key words are not in the best procedure"
            return False, ""
        if mode == "dense":
            if f.dense_vs_bg < self.min_dense_vs_bg:
                return True, "closer to an out-of-scope topic than to any procedure"
            return False, ""
        if f.alias_match >= 1.0:
            return False, ""
        if f.dense_vs_bg < self.min_dense_vs_bg and f.alias_match < self.min_alias:
            return True, "closer to an out-of-scope topic than to any procedure"
        if f.alias_match < self.min_alias and f.cov_top < self.min_cov_top:
            return True, "the question's key words are not in the best procedure"
        return False, ""
