"""The speech check: every demo clip is speech; noise, tones, DC and silence are not."""

import time

import numpy as np
import pandas as pd
import pytest

from ser.audio.reader import finish_audio, read_audio
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
    from ser.audio.speech import is_speech

    paths = pd.read_csv(DEMO / "all_labels.csv").path
    rejected = [p for p in paths if not is_speech(finish_audio(read_audio(DEMO / p)), sr=SR)]
    assert not rejected, f"{len(paths) - len(rejected)}/{len(paths)} accepted; rejected {rejected}"


@pytest.mark.parametrize("kind", NON_SPEECH)
def test_non_speech_is_not_speech_as_given_or_level_normalised(kind):
    from ser.audio.speech import is_speech, speech_ratio

    y = non_speech(kind)
    assert not is_speech(y, sr=SR)
    assert speech_ratio(y, sr=SR) < 0.05
    if kind != "silence":  # silence is refused before this (see test_audio)
        assert not is_speech(finish_audio(read_audio(y, sr=SR)), sr=SR)


def test_speech_frames_shape_rates_and_cost(real_clip):
    from ser.audio.speech import FRAME_S, speech_frames, speech_ratio

    y = finish_audio(read_audio(real_clip))
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


def bark(seed: int, *, n_bursts: int = 8) -> np.ndarray:
    """A seeded synthetic bark: ``n_bursts`` bursts of a clipped or distorted sawtooth sweeping about
    700 -> 400 Hz, with a random burst length, gap, level, drive and a faint noise floor."""
    rng = np.random.default_rng(seed)
    burst_s, gap_s = rng.uniform(0.05, 0.4), rng.uniform(0.03, 0.5)
    level, drive, hard = 10 ** rng.uniform(-2, 0), rng.uniform(1.5, 20), rng.random() < 0.5
    f_hi, f_lo = 700 * rng.uniform(0.9, 1.1), 400 * rng.uniform(0.9, 1.1)
    parts = [np.zeros(int(rng.uniform(0, 0.3) * SR))]
    for _ in range(n_bursts):
        n = int(burst_s * SR * rng.uniform(0.85, 1.15))
        f = np.geomspace(f_hi, f_lo, n) if rng.random() < 0.5 else np.linspace(f_hi, f_lo, n)
        phase = np.cumsum(f) / SR + rng.random()
        x = drive * 2 * (phase - np.floor(phase + 0.5)) * np.sin(np.pi * np.arange(n) / n) ** rng.uniform(0.2, 1)
        parts += [np.clip(x, -1, 1) if hard else np.tanh(x) / np.tanh(drive),
                  np.zeros(int(gap_s * SR * rng.uniform(0.7, 1.3)))]
    y = level * np.concatenate(parts)
    return (y + 10 ** rng.uniform(-5, -3) * rng.standard_normal(y.size)).astype(np.float32)


def demo_clips(n: int | None = None, *, raw: bool = False) -> list[np.ndarray]:
    """The first ``n`` demo clips (trimmed and level-normalised unless ``raw``), in speaker order."""
    labels = pd.read_csv(DEMO / "all_labels.csv").sort_values(["path"])
    if n is not None:  # round-robin over the speakers, so that n clips hold as many voices as possible
        labels = labels.groupby("speaker").head(-(-n // labels.speaker.nunique())).sort_values("speaker",
                                                                                            kind="stable")
        labels = labels.iloc[np.argsort(labels.groupby("speaker").cumcount().to_numpy(), kind="stable")].head(n)
    if raw:
        return [read_audio(DEMO / p).y for p in labels.path]
    return [finish_audio(read_audio(DEMO / p)) for p in labels.path]


def crowd(n_voices: int, *, seed: int = 0, duration_s: float = 4.0) -> np.ndarray:
    """``n_voices`` demo clips talking at once at equal level, as a TV's crowd or a busy room sounds."""
    from ser.augment.effects import babble

    return 0.1 * babble(demo_clips(n_voices), n=int(duration_s * SR), rng=np.random.default_rng(seed),
                        n_talkers=None)


@pytest.mark.parametrize("seed", range(24))
def test_seeded_barks_are_not_speech(seed):
    from ser.audio.speech import is_speech

    assert not is_speech(finish_audio(read_audio(bark(seed), sr=SR)), sr=SR)


@pytest.mark.parametrize("n_voices", [6, 8])
def test_a_crowd_of_demo_voices_is_several_voices(n_voices):
    from ser.audio.speech import is_speech, many_voices

    for seed in range(3):
        y = finish_audio(read_audio(crowd(n_voices, seed=seed), sr=SR))
        assert is_speech(y, sr=SR) and many_voices(y, sr=SR)


def test_one_demo_voice_is_one_voice_even_over_babble_at_10_db():
    from ser.augment.transforms import apply_condition
    from ser.audio.speech import many_voices

    clips = demo_clips()
    flagged = [i for i, y in enumerate(clips) if many_voices(y, sr=SR)]
    assert not flagged, f"single demo clips taken for several voices: {flagged}"
    raw = demo_clips(12, raw=True)
    for i, y in enumerate(raw):
        others = [s for j, s in enumerate(raw) if j % 4 != i % 4]  # other speakers
        mixed = apply_condition(y, "babble10", sr=SR, rng=np.random.default_rng(i), babble_sources=others)
        assert not many_voices(finish_audio(read_audio(mixed, sr=SR)), sr=SR), f"clip {i} with babble at 10 dB"
