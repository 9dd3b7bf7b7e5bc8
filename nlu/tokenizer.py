"""VietnameseTokenizer: underthesea word segmentation with offsets that always point into the original text.

Tokens are built from "atoms" of the original text (runs of word characters, emoji clusters); underthesea
only decides which neighbouring syllables form one word ("bao nhiêu", "hồ sơ"). Its output is never used
for offsets because it normalises characters (NFC, "hoà" -> "hòa") and may alter or drop some. Pattern
entities (codes, phones, ID numbers) become one token each, and no token crosses the boundary of a pattern,
date/time or annotated entity, so DIET's BILOU tags always line up with entity spans.
"""
from __future__ import annotations

import datetime as _dt

import logging
import re
import unicodedata
from typing import Any, Dict, Iterable, List, Optional, Set, Text, Tuple

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_END, ENTITY_ATTRIBUTE_START, TEXT
from rasa.shared.nlu.training_data.message import Message

from vntext.datetime_vi import find_datetimes
from vntext.patterns import find_pattern_entities
from vntext.textnorm import canonical, fold_with_spans

SPAN_REFERENCE = _dt.datetime(2026, 1, 5, 9, 0)  # any fixed day: date spans are found the same way

logger = logging.getLogger(__name__)

Span = Tuple[int, int]

_WORD, _SYMBOL, _OTHER = "w", "s", "o"
# Characters that glue two word characters into one atom, by the kind of neighbours they need.
_DIGIT_GLUE = set(".,/-:")
_CODE_GLUE = set("./-:")  # at least one neighbour is a digit: "H26-241115", "11.H26", "9h-10h"
_LETTER_GLUE = set("-/'’_")  # "LH-ABCDEF", "v/v"; not "." so "ok.em" stays two words
_EMOJI_TAIL = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}
# Folded length limit for one underthesea word lookup: keeps alignment linear on long messages.
_ALIGN_WINDOW = 64


def _char_class(ch: str) -> str:
    """Word character, symbol (emoji, currency) or other (space, punctuation, control)."""
    if ch.isalnum() or ch == "_":
        return _WORD
    category = unicodedata.category(ch)
    if category.startswith("M"):
        return _WORD  # combining accents of decomposed (NFD) input belong to their letter
    if category in ("So", "Sc", "Sk") or ch in _EMOJI_TAIL:
        return _SYMBOL
    return _OTHER


def _glues(prev: str, glue: str, nxt: str) -> bool:
    """True when ``glue`` between ``prev`` and ``nxt`` keeps them in one atom."""
    if prev.isdigit() and nxt.isdigit():
        return glue in _DIGIT_GLUE
    if prev.isdigit() or nxt.isdigit():
        return glue in _CODE_GLUE
    return glue in _LETTER_GLUE


def atoms(text: str) -> List[Tuple[int, int, str]]:
    """(start, end, kind) of word runs and emoji clusters of ``text``; punctuation and spaces are dropped."""
    result: List[Tuple[int, int, str]] = []
    n = len(text)
    classes = [_char_class(c) for c in text]
    i = 0
    while i < n:
        kind = classes[i]
        if kind == _OTHER or (kind == _SYMBOL and text[i] in _EMOJI_TAIL):
            i += 1
            continue
        j = i + 1
        if kind == _WORD:
            while j < n:
                if classes[j] == _WORD:
                    j += 1
                elif j + 1 < n and classes[j + 1] == _WORD and not unicodedata.category(text[j + 1]).startswith("M") \
                        and _glues(text[j - 1], text[j], text[j + 1]):
                    j += 2
                else:
                    break
        else:
            # one emoji cluster: base, then skin tones / variation selectors / ZWJ + next base
            while j < n:
                ch = text[j]
                if ch in _EMOJI_TAIL or 0x1F3FB <= ord(ch) <= 0x1F3FF:
                    j += 1
                    if ch == "\u200d" and j < n and classes[j] == _SYMBOL:
                        j += 1
                elif 0x1F1E6 <= ord(ch) <= 0x1F1FF and 0x1F1E6 <= ord(text[j - 1]) <= 0x1F1FF and j - i == 1:
                    j += 1  # a flag is two regional indicators
                else:
                    break
        result.append((i, j, kind))
        i = j
    return result


def _segment(text: str) -> List[str]:
    """underthesea words of ``text`` (NFC), or [] when underthesea is unavailable or fails."""
    try:
        from underthesea import word_tokenize

        return [w for w in word_tokenize(unicodedata.normalize("NFC", text)) if isinstance(w, str)]
    except Exception as exc:  # segmentation is an improvement, never a requirement
        logger.debug("underthesea failed (%s); falling back to plain word spans", exc)
        return []


def align_words(text: str, words: Iterable[str]) -> List[Span]:
    """Spans in ``text`` of the ``words`` that can be found in order, compared folded and without spaces."""
    folded, spans = fold_with_spans(text)
    keep = [i for i, ch in enumerate(folded) if not ch.isspace()]
    squeezed = "".join(folded[i] for i in keep)
    aligned: List[Span] = []
    cursor = 0
    for word in words:
        key = "".join(ch for ch in fold_with_spans(word)[0] if not ch.isspace())
        if not key:
            continue
        pos = squeezed.find(key, cursor, cursor + len(key) + _ALIGN_WINDOW)
        if pos < 0:
            continue  # altered beyond folding: its characters fall back to plain atoms
        start = spans[keep[pos]][0]
        end = spans[keep[pos + len(key) - 1]][1]
        aligned.append((start, end))
        cursor = pos + len(key)
    return aligned


def _merge_multisyllable(text: str, atom_list: List[Tuple[int, int, str]], words: List[Span]) -> List[Span]:
    """Group atoms that underthesea joined into one word ("bao nhiêu"), when only spaces separate them."""
    by_start = {a[0]: idx for idx, a in enumerate(atom_list)}
    group_end: Dict[int, int] = {}  # first atom index -> last atom index
    for start, end in words:
        first = by_start.get(start)
        if first is None:
            continue
        last = first
        while last + 1 < len(atom_list) and atom_list[last + 1][1] <= end:
            last += 1
        if last == first or atom_list[last][1] != end:
            continue
        chunk = atom_list[first:last + 1]
        if all(a[2] == _WORD for a in chunk) and all(
            text[a[1]:b[0]].isspace() for a, b in zip(chunk, chunk[1:])
        ):
            group_end[first] = last
    spans: List[Span] = []
    idx = 0
    while idx < len(atom_list):
        last = group_end.get(idx, idx)
        spans.append((atom_list[idx][0], atom_list[last][1]))
        idx = last + 1
    return spans


def _trim(text: str, start: int, end: int) -> Optional[Span]:
    """Shrink a span to its first and last word/symbol character; None when nothing is left."""
    while start < end and _char_class(text[start]) == _OTHER:
        start += 1
    while end > start and _char_class(text[end - 1]) == _OTHER:
        end -= 1
    if start >= end:
        return None
    return start, end


def _cut(text: str, spans: List[Span], cuts: Set[int]) -> List[Span]:
    """Split spans at the given offsets, trimming punctuation and spaces left at the new edges."""
    if not cuts:
        return spans
    ordered = sorted(cuts)
    result: List[Span] = []
    for start, end in spans:
        inner = [c for c in ordered if start < c < end]
        bounds = [start] + inner + [end]
        for a, b in zip(bounds, bounds[1:]):
            trimmed = _trim(text, a, b)
            if trimmed:
                result.append(trimmed)
    return result


def token_spans(
    text: str, extra_boundaries: Optional[List[Span]] = None, use_underthesea: bool = True
) -> Tuple[List[Span], Dict[Span, str]]:
    """Token spans of ``text`` and the pattern entity type of the spans that are one pattern entity."""
    atom_list = atoms(text)
    if not atom_list:
        return [], {}
    words = align_words(text, _segment(text)) if use_underthesea else []
    spans = _merge_multisyllable(text, atom_list, words)

    patterns = find_pattern_entities(text)
    boundaries: List[Span] = [(p.start, p.end) for p in patterns]
    # Only the spans matter here, and they do not depend on the day they are resolved against.
    boundaries += [(d.start, d.end) for d in find_datetimes(text, SPAN_REFERENCE)]
    boundaries += list(extra_boundaries or [])
    cuts = {b for span in boundaries for b in span}
    spans = _cut(text, spans, cuts)

    pattern_types: Dict[Span, str] = {}
    for ent in patterns:
        spans = [s for s in spans if s[1] <= ent.start or s[0] >= ent.end]
        spans.append((ent.start, ent.end))
        pattern_types[(ent.start, ent.end)] = ent.entity
    return sorted(set(spans)), pattern_types


def lemma_for(token_text: str) -> str:
    """Canonical lemma: folded, shorthand expanded, syllables joined by spaces ("bn" -> "bao nhieu")."""
    return canonical(unicodedata.normalize("NFKC", token_text))


def _entity_boundaries(message: Message) -> List[Span]:
    """Spans of annotated entities of a training message (so tokens respect them)."""
    spans: List[Span] = []
    for ent in message.get(ENTITIES) or []:
        try:
            spans.append((int(ent[ENTITY_ATTRIBUTE_START]), int(ent[ENTITY_ATTRIBUTE_END])))
        except (KeyError, TypeError, ValueError):
            continue
    return spans


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(Tokenizer):
    """Vietnamese word tokenizer (underthesea) with exact offsets and canonical lemmas."""

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        """Vietnamese only."""
        return ["vi"]

    @staticmethod
    def required_packages() -> List[Text]:
        """Python packages this component needs."""
        return ["underthesea"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration (see Rasa's Tokenizer for the shared keys)."""
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Join multi-syllable words with underthesea; False gives one token per syllable.
            "use_underthesea": True,
            # Lemma of a pattern-entity token: "__phone__" etc. instead of its digits, so every code or
            # phone number looks the same to CountVectorsFeaturizer.
            "pattern_placeholder_lemma": True,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Initialise from a full config (defaults merged by Rasa)."""
        defaults = self.get_default_config()
        merged = {**defaults, **(config or {})}
        super().__init__(merged)
        self._use_underthesea = bool(merged["use_underthesea"])
        self._placeholder = bool(merged["pattern_placeholder_lemma"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseTokenizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        text = message.get(attribute)
        if not isinstance(text, str) or not text:
            return []
        extra = _entity_boundaries(message) if attribute == TEXT else []
        try:
            spans, pattern_types = token_spans(text, extra, self._use_underthesea)
        except Exception as exc:  # never fail a message: plain atoms are always computable
            logger.warning("VietnameseTokenizer fell back to plain word spans: %s", exc)
            spans, pattern_types = [(a[0], a[1]) for a in atoms(text)], {}
        tokens = []
        for start, end in spans:
            piece = text[start:end]
            entity = pattern_types.get((start, end))
            lemma = f"__{entity}__" if entity and self._placeholder else lemma_for(piece)
            tokens.append(Token(piece, start, end, lemma=lemma or piece))
        return self._apply_token_pattern(tokens)
