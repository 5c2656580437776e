"""Level-free by construction: a clip's gain changes neither what the network sees nor what it says."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser.audio.reader import finish_audio, read_audio
from ser.config import Config
from ser.features.extract import extract_features
from tests.conftest import DEFAULT_MODEL, DEMO

GAINS_DB = (-30.0, -20.0, -10.0, 10.0)


def demo_clips(n: int) -> list:
    labels = pd.read_csv(DEMO / "all_labels.csv")
    return [DEMO / p for p in labels.groupby("emotion").head(1).path[:n]]


def unclipped_gains(y: np.ndarray) -> list[float]:
    """The gains of GAINS_DB that keep the clip inside full scale (the issue's 'no clipping')."""
    peak = float(np.max(np.abs(y)))
    return [g for g in GAINS_DB if peak * 10 ** (g / 20) < 1.0]


@pytest.mark.parametrize("clip", demo_clips(8), ids=lambda p: p.name)
def test_features_do_not_depend_on_gain(clip):
    y, sr = sf.read(clip, dtype="float32")
    config = Config()
    ref = extract_features(finish_audio(read_audio(y, sr=sr, config=config.audio), config=config.audio), sr=16_000, config=config.features)
    gains = unclipped_gains(y)
    assert gains, "every clip takes at least the quieter gains"
    for g in gains:
        scaled = (y * 10 ** (g / 20)).astype(np.float32)
        got = extract_features(finish_audio(read_audio(scaled, sr=sr, config=config.audio), config=config.audio), sr=16_000,
                               config=config.features)
        assert got.shape == ref.shape
        # mel dB, MFCC and chroma within rounding of float32 arithmetic, ZCR exact, RMS relative
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=2e-2, err_msg=f"gain {g:+} dB")


def test_trimming_keeps_the_same_samples_at_any_gain():
    clip = demo_clips(1)[0]
    y, sr = sf.read(clip, dtype="float32")
    config = Config().audio
    ref = finish_audio(read_audio(y, sr=sr, config=config), config=config)
    for g in unclipped_gains(y):
        got = finish_audio(read_audio((y * 10 ** (g / 20)).astype(np.float32), sr=sr, config=config), config=config)
        assert got.size == ref.size, f"gain {g:+} dB trimmed to {got.size} samples instead of {ref.size}"


def test_shipped_model_predictions_do_not_depend_on_gain():
    from ser.serving.predict import Predictor

    predictor = Predictor.load(DEFAULT_MODEL)
    clips = demo_clips(8)
    changed = []
    for clip in clips:
        y, sr = sf.read(clip, dtype="float32")
        ref = predictor.predict(y, sr=sr)
        for g in unclipped_gains(y):
            got = predictor.predict((y * 10 ** (g / 20)).astype(np.float32), sr=sr)
            if got.emotion != ref.emotion:
                changed.append(f"{clip.name} at {g:+} dB: {ref.emotion} -> {got.emotion}")
            assert max(abs(got.probabilities[e] - ref.probabilities[e]) for e in ref.probabilities) < 1e-3 or \
                changed, f"{clip.name} at {g:+} dB moved its probabilities"
    assert not changed, changed
