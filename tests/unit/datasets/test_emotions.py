"""Closed-set answers (ser.datasets.emotions): the user's choice of emotions, and probabilities restricted to it."""

import numpy as np
import pytest

from ser import EMOTIONS
from ser.datasets.emotions import check_choice, parse_emotions, restrict
from ser.errors import ConfigError


def test_parse_accepts_usual_spellings_in_the_models_order():
    assert parse_emotions("sad, Angry,fear,happy", known=EMOTIONS) == ("happy", "sad", "angry", "fearful")
    assert parse_emotions(["neutral", "sad", "sad"], known=EMOTIONS) == ("neutral", "sad")
    assert parse_emotions(None, known=EMOTIONS) is None and parse_emotions(" , ", known=EMOTIONS) is None


@pytest.mark.parametrize("text, message", [
    ("angry,bored", r"^--emotions: 'bored' is not an emotion this model knows; choose from neutral, calm, "),
    ("angry", r"^--emotions: angry is one emotion only; an answer needs at least two"),
    ("angry,ANGRY", r"^--emotions: angry is one emotion only"),
])
def test_parse_refuses_an_unknown_name_or_one_emotion_in_one_line(text, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_emotions(text, known=EMOTIONS)
    assert "\n" not in str(info.value)


def test_a_name_the_model_does_not_know_is_refused_even_if_it_is_an_emotion():
    with pytest.raises(ConfigError, match="'calm' is not an emotion this model knows; choose from angry, happy"):
        parse_emotions("calm,angry", known=("angry", "happy", "sad"))


def test_check_choice_orders_and_refuses_fewer_than_two():
    assert check_choice(["sad", "neutral"], known=EMOTIONS) == ("neutral", "sad")
    for few in ([], ["sad"]):
        with pytest.raises(ConfigError, match="one emotion only; an answer needs at least two"):
            check_choice(few, known=EMOTIONS)
    with pytest.raises(ConfigError, match="bored is not an emotion this model knows"):
        check_choice(["sad", "bored"], known=EMOTIONS)


def test_restrict_renormalises_over_the_kept_emotions_only():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(len(EMOTIONS)), size=5).astype(np.float32)
    keep = ("happy", "sad", "angry", "neutral")
    out = restrict(probs, emotions=EMOTIONS, keep=keep)
    idx = [EMOTIONS.index(e) for e in keep]
    others = [i for i in range(len(EMOTIONS)) if i not in idx]
    assert out.shape == probs.shape and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(out[:, others] == 0)
    np.testing.assert_allclose(out[:, idx], probs[:, idx] / probs[:, idx].sum(axis=1, keepdims=True), rtol=1e-5)
    assert np.array_equal(restrict(probs, emotions=EMOTIONS, keep=None), probs)


def test_restrict_spreads_a_row_with_no_kept_probability_evenly_and_works_on_one_row():
    row = np.zeros(len(EMOTIONS), np.float32)
    row[EMOTIONS.index("fearful")] = 1.0
    out = restrict(row, emotions=EMOTIONS, keep=("sad", "angry"))
    assert out.shape == row.shape
    assert out[EMOTIONS.index("sad")] == out[EMOTIONS.index("angry")] == pytest.approx(0.5)
    assert out[EMOTIONS.index("fearful")] == 0
