"""Occlusion over time with the shipped model, on a real clip and on noise."""

import numpy as np
import pytest

from ser.audio import decode
from ser.explain import explain
from ser.predict import Predictor
from tests.conftest import DEFAULT_MODEL


@pytest.fixture(scope="module")
def shipped():
    return Predictor.load(DEFAULT_MODEL)


def test_silent_stretches_do_not_matter_and_the_answer_rests_on_speech(shipped, real_clip):
    y, sr = decode(real_clip)
    e = explain(shipped, y, sr=sr, segment_s=0.25)
    assert e.emotion == shipped.predict(y, sr=sr).emotion
    assert len(e.importance) == int(np.ceil(len(y) / (0.25 * sr))) and e.ends_s[-1] == pytest.approx(len(y) / sr)
    peak = np.abs(y).max()
    quiet = [i for i, (a, b) in enumerate(zip(e.starts_s, e.ends_s))
             if np.abs(y[int(a * sr):int(b * sr)]).max() < 0.01 * peak]
    assert quiet, "a RAVDESS clip starts with silence"
    assert np.abs(e.importance[quiet]).max() < 0.02  # silencing silence changes nothing
    start, end = e.strongest()
    assert np.abs(y[int(start * sr):int(end * sr)]).max() > 0.1 * peak  # the strongest stretch holds voice
    assert e.sentence().startswith(f"“{e.emotion}” rests most on {start:.2f}–{end:.2f} s")


def test_noise_has_nothing_to_explain(shipped):
    noise = np.random.default_rng(0).normal(scale=0.1, size=32000).astype(np.float32)
    e = explain(shipped, noise, sr=16000)
    assert e.emotion is None and e.strongest() is None and not e.importance.any()
    assert e.sentence() == "No speech, so there is nothing to explain."
