"""VietnameseEntityExtractor: authoritative pattern and date/time entities on top of DIET.

Codes, phone numbers and ID numbers have exact formats, so patterns decide them: DIET guesses on those
types (and anything overlapping our spans) are removed rather than merged.
"""
from __future__ import annotations

import datetime as _dt
import logging
from typing import Any, Dict, List, Optional, Text, Tuple
from zoneinfo import ZoneInfo

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from infra import clock
from vntext.datetime_vi import find_datetimes
from vntext.patterns import PATTERN_TYPES, find_pattern_entities
from vntext.textnorm import fold

logger = logging.getLogger(__name__)

EXTRACTOR_NAME = "VietnameseEntityExtractor"
DEFAULT_AUTHORITATIVE_TYPES: List[str] = list(PATTERN_TYPES) + ["date", "time"]


def extract_entities(
    text: Text,
    now: Optional[_dt.datetime] = None,
    patterns: bool = True,
    datetimes: bool = True,
    timezone: Optional[str] = None,
) -> List[Dict[Text, Any]]:
    """Rasa entity dicts for the pattern and date/time entities of ``text`` (never raises)."""
    if not isinstance(text, str) or not text.strip():
        return []
    entities: List[Dict[Text, Any]] = []
    try:
        if patterns:
            for ent in find_pattern_entities(text):
                entities.append(_entity(ent.start, ent.end, ent.entity, ent.text, ent.normalized))
        if datetimes:
            if now is None:
                now = _dt.datetime.now(ZoneInfo(timezone)) if timezone else clock.now_local()
            taken = [(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]) for e in entities]
            for dt_ent in find_datetimes(text, now, exclude=taken):
                info = {"grain": dt_ent.grain, "part_of_day": dt_ent.part_of_day, "invalid": dt_ent.invalid}
                entity = _entity(dt_ent.start, dt_ent.end, dt_ent.entity, dt_ent.text, dt_ent.value, info)
                if dt_ent.invalid:
                    entity["invalid"] = True
                entities.append(entity)
    except Exception as exc:  # a broken rule must not take the bot down
        logger.warning("VietnameseEntityExtractor failed on a message: %s", exc)
    return sorted(entities, key=lambda e: e[ENTITY_ATTRIBUTE_START])


def _entity(
    start: int, end: int, entity: str, typed: str, normalized: Optional[str],
    additional_info: Optional[Dict[str, Any]] = None,
) -> Dict[Text, Any]:
    """One entity dict in Rasa's format; value is the text as typed."""
    result: Dict[Text, Any] = {
        ENTITY_ATTRIBUTE_START: start,
        ENTITY_ATTRIBUTE_END: end,
        ENTITY_ATTRIBUTE_TYPE: entity,
        ENTITY_ATTRIBUTE_VALUE: typed,
        "normalized": normalized,
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
        EXTRACTOR: EXTRACTOR_NAME,
    }
    if additional_info is not None:
        result["additional_info"] = additional_info
    return result


def _is_explicit_date(entity: Dict[Text, Any]) -> bool:
    """A calendar date written out (15/12, ngày 5 tháng 1, Tết) rather than a relative word (mai, tối nay)."""
    if entity[ENTITY_ATTRIBUTE_TYPE] != "date":
        return False
    words = fold(str(entity.get(ENTITY_ATTRIBUTE_VALUE) or "")).split()
    if words and words[0] in ("thu", "t2", "t3", "t4", "t5", "t6", "t7", "cn", "chu"):
        return False  # a weekday ("thứ 7") is relative to this week, not a calendar date
    return any(ch.isdigit() for w in words for ch in w) or "tet" in words


def _overlaps(entity: Dict[Text, Any], spans: List[Tuple[int, int]]) -> bool:
    """True when a (possibly malformed) entity dict overlaps any span."""
    try:
        start, end = int(entity[ENTITY_ATTRIBUTE_START]), int(entity[ENTITY_ATTRIBUTE_END])
    except (KeyError, TypeError, ValueError):
        return False
    return any(start < s_end and s_start < end for s_start, s_end in spans)


def _start_key(entity: Dict[Text, Any]) -> int:
    """Sort key of an entity dict; malformed starts sort first instead of raising."""
    try:
        return int(entity.get(ENTITY_ATTRIBUTE_START) or 0)
    except (TypeError, ValueError):
        return 0


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class VietnameseEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds pattern and date/time entities and removes conflicting guesses of other extractors."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {
            # Entity types other extractors (DIET, regex) may not produce: ours are authoritative.
            "authoritative_types": list(DEFAULT_AUTHORITATIVE_TYPES),
            "extract_patterns": True,
            "extract_datetimes": True,
            # Dates are resolved relative to "now" in this time zone.
            "timezone": clock.TZ_NAME,
            # Intents whose messages carry dates and times as answers (booking, moving, a bare reply). In other
            # messages only explicit calendar dates are entities: "tối nay xem phim gì" or "mai tính tiếp" use
            # time words in passing, and a slot must not pick them up.
            "datetime_intents": ["book_appointment", "cancel_appointment", "inform"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        """Initialise from a config (missing keys take their defaults)."""
        self.component_config = {**self.get_default_config(), **(config or {})}
        types = self.component_config.get("authoritative_types")
        self._authoritative = set(types) if isinstance(types, (list, tuple, set)) else set(DEFAULT_AUTHORITATIVE_TYPES)
        self.fixed_now: Optional[_dt.datetime] = None  # set to resolve dates against a fixed time

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> VietnameseEntityExtractor:
        """Creates the component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds our entities to each message and drops conflicting ones from other extractors."""
        # Rasa passes graph inputs by parameter name, so a fixed clock (tests, replays) is an attribute.
        now = self.fixed_now
        for message in messages:
            try:
                self._process_one(message, now)
            except Exception as exc:  # keep the other entities rather than fail the message
                logger.warning("VietnameseEntityExtractor skipped a message: %s", exc)
        return messages

    def _process_one(self, message: Message, now: Optional[_dt.datetime]) -> None:
        """Merge our entities into one message."""
        text = message.get(TEXT)
        ours = extract_entities(
            text,
            now=now,
            patterns=bool(self.component_config.get("extract_patterns", True)),
            datetimes=bool(self.component_config.get("extract_datetimes", True)),
            timezone=self.component_config.get("timezone"),
        )
        intent = (message.get(INTENT) or {}).get("name")
        if intent and intent not in (self.component_config.get("datetime_intents") or []):
            ours = [e for e in ours if e[ENTITY_ATTRIBUTE_TYPE] not in ("date", "time") or _is_explicit_date(e)]
        spans = [(e[ENTITY_ATTRIBUTE_START], e[ENTITY_ATTRIBUTE_END]) for e in ours]
        kept = []
        for entity in message.get(ENTITIES) or []:
            if not isinstance(entity, dict):
                continue
            if entity.get(EXTRACTOR) == EXTRACTOR_NAME:
                continue  # processing twice must not duplicate
            if entity.get(ENTITY_ATTRIBUTE_TYPE) in self._authoritative or _overlaps(entity, spans):
                continue
            kept.append(entity)
        merged = sorted(kept + ours, key=_start_key)
        message.set(ENTITIES, merged, add_to_output=True)
