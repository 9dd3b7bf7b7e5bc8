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
    lex_z: float = 0.0          # how far the top procedure's BM25 stands above the others (standard scores)
    dense_top: float = 0.0      # cosine of the top procedure's best chunk
    dense_best: float = 0.0     # best cosine of any procedure
    dense_margin: float = 0.0   # dense top-1 minus top-2 procedure
    dense_bg: float = 0.0       # best cosine of an out-of-scope anchor
    dense_vs_bg: float = 0.0    # dense_top - dense_bg
    dense_z: float = 0.0        # how far the top procedure's cosine stands above the others (standard scores)
    agree: float = 0.0          # 1 when the lexical and the dense halves rank the same procedure first


@dataclass
class DeclineModel:
    """Hand-tuned rule over the features; thresholds are fields so tests and tuning can change them.

    Hybrid and BM25 modes: the question must name the top procedure (an alias whose specific syllables are mostly
    present); a partial name needs a strong lexical match and must be closer (by meaning) to the procedure than to
    every out-of-scope anchor. In hybrid mode an unnamed procedure is still answered when both halves rank it first
    and its meaning is clearly closer to it than to any anchor (life events: "sắp cưới", "vừa mất"). Dense mode can only compare meanings: the top procedure must beat the out-of-scope
    anchors by a margin (cosines are squeezed with this model: the margin is small but consistent).
    """

    min_alias: float = 0.6          # below: no procedure is named -> decline
    full_alias: float = 0.85        # at or above: clearly named -> answer
    min_lex_top: float = 32.0       # partial names need at least this BM25 score
    min_dense_vs_bg: float = 0.0    # partial names must be closer to the procedure than to any anchor
    rescue_vs_bg: float = 0.04      # hybrid: both halves agree and the meaning is this much closer to the
    rescue_dense_z: float = 2.4     # procedure than to any anchor, and it stands out -> answer though unnamed
    dense_only_vs_bg: float = 0.015  # dense mode: margin of the top procedure's cosine over the best anchor

    def decide(self, f: Features, mode: str = "hybrid") -> Tuple[bool, str]:
        """(declined, reason) for the features of the top procedure."""
        if f.n_words == 0:
            return True, "no content words in the question"
        if mode == "dense":
            if f.dense_vs_bg < self.dense_only_vs_bg:
                return True, "about as close to an out-of-scope topic as to any procedure"
            return False, ""
        if (mode == "hybrid" and f.agree and f.dense_vs_bg >= self.rescue_vs_bg
                and f.dense_z >= self.rescue_dense_z):
            return False, ""
        if f.alias_match < self.min_alias:
            return True, "the question does not name a procedure of the knowledge base"
        if f.alias_match < self.full_alias:
            if f.lex_top < self.min_lex_top:
                return True, "the procedure is only partly named and the match is weak"
            if mode == "hybrid" and f.dense_vs_bg < self.min_dense_vs_bg:
                return True, "the question is closer to an out-of-scope topic"
        return False, ""
