"""The speech check: every demo clip is speech; noise, tones, DC and silence are not."""

import time

import numpy as np
import pandas as pd
import pytest

from ser.audio import load_audio, prepare_audio
from tests.conftest import DEMO

SR = 16_000


def non_speech(kind: str, *, duration_s: float = 4.0, seed: int = 0) -> np.ndarray:
    """Seeded signals with no voice: white and pink noise, a 440 Hz tone, DC, digital silence."""
    rng = np.random.default_rng(seed)
    n = int(SR * duration_s)
    t = np.arange(n) / SR
    if kind == "white noise":
        return (0.1 * rng.standard_normal(n)).astype(np.float32)
    if kind == "pink noise":
        spec = np.fft.rfft(rng.standard_normal(n))
        spec[1:] /= np.sqrt(np.fft.rfftfreq(n, 1 / SR)[1:])
        spec[0] = 0
        y = np.fft.irfft(spec, n)
        return (0.3 * y / np.abs(y).max()).astype(np.float32)
    if kind == "440 Hz tone":
        return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    if kind == "DC":
        return np.full(n, 0.5, np.float32)
    return np.zeros(n, np.float32)


NON_SPEECH = ["white noise", "pink noise", "440 Hz tone", "DC", "silence"]


def test_every_demo_clip_is_speech():
    from ser.speech import is_speech

    paths = pd.read_csv(DEMO / "all_labels.csv").path
    rejected = [p for p in paths if not is_speech(load_audio(DEMO / p)[0], sr=SR)]
    assert not rejected, f"{len(paths) - len(rejected)}/{len(paths)} accepted; rejected {rejected}"


@pytest.mark.parametrize("kind", NON_SPEECH)
def test_non_speech_is_not_speech_as_given_or_level_normalised(kind):
    from ser.speech import is_speech, speech_ratio

    y = non_speech(kind)
    assert not is_speech(y, sr=SR)
    assert speech_ratio(y, sr=SR) < 0.05
    if kind != "silence":  # silence is refused before this (see test_audio)
        assert not is_speech(prepare_audio(y, sr=SR), sr=SR)


def test_speech_frames_shape_rates_and_cost(real_clip):
    from ser.speech import FRAME_S, speech_frames, speech_ratio

    y, _ = load_audio(real_clip)
    probs = speech_frames(y, sr=SR)
    assert probs.shape == (int(np.ceil(y.size / (FRAME_S * SR))),) and probs.dtype == np.float32
    assert 0 <= probs.min() and probs.max() <= 1
    import librosa

    y8 = librosa.resample(y, orig_sr=SR, target_sr=8_000)
    assert abs(speech_ratio(y8, sr=8_000) - speech_ratio(y, sr=SR)) < 0.15
    four = np.resize(y, 4 * SR)
    speech_frames(four, sr=SR)
    start = time.perf_counter()
    for _ in range(5):
        speech_frames(four, sr=SR)
    assert (time.perf_counter() - start) / 5 < 0.1  # ~10 ms for 4 s on one core
    assert speech_frames(np.zeros(0, np.float32), sr=SR).shape == (0,)
