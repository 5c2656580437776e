"""Characterization: the samples the reader gives (raw, and finished: trimmed and levelled) for a demo
WAV, a 44.1 kHz stereo file and an 8 kHz file, pinned as computed before the audio path was made one.

A change here changes every feature and prediction: it must be deliberate, never a refactor's side effect.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import soundfile as sf

from ser.audio.reader import finish_audio, read_audio
from ser.config import AudioConfig
from tests.conftest import DEMO

DEMO_CLIP = DEMO / "Actor_06" / "03-01-01-01-01-01-06.wav"


def _digest(y: np.ndarray) -> tuple[int, str, str]:
    y = np.asarray(y)
    return y.size, str(y.dtype), hashlib.sha256(np.ascontiguousarray(y).tobytes()).hexdigest()[:20]


def _speechlike(sr: int, channels: int, seed: int) -> np.ndarray:
    """2 s of a gliding harmonic voice with noise, between 0.3 s silences; channels differ."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(2.6 * sr)) / sr
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2)
    voice = voice * ((t > 0.3) & (t < 2.3))
    cols = [0.2 * voice * (1 - 0.3 * c) + 0.003 * rng.standard_normal(t.size) for c in range(channels)]
    return np.stack(cols, axis=1) if channels > 1 else cols[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("same-samples")
    sf.write(folder / "stereo44k.wav", _speechlike(44_100, 2, seed=1), 44_100, subtype="PCM_16")
    sf.write(folder / "mono8k.wav", _speechlike(8_000, 1, seed=2), 8_000, subtype="PCM_16")
    return {"demo": DEMO_CLIP, "stereo44k": folder / "stereo44k.wav", "mono8k": folder / "mono8k.wav"}


# (n, dtype, sha256[:20]) of read_audio(path).y and of finish_audio of it, with the default AudioConfig
PINNED = {
    "demo": ((53387, "float32", "0ae457914e5a8a7e33bf"), (24064, "float32", "149fbf3523e8b8c129ec")),
    "stereo44k": ((41600, "float32", "0ad9a9dd920a8684db7e"), (33792, "float32", "bc299a9eb5480301cf22")),
    "mono8k": ((41600, "float32", "0a75904ec4481feb0b52"), (33792, "float32", "bbeff4535e562421c317")),
}


@pytest.mark.parametrize("which", sorted(PINNED))
def test_read_and_finish_give_the_pinned_samples(files, which):
    config = AudioConfig()
    raw = read_audio(files[which], config=config)
    finished = finish_audio(raw.y, config=config, name=str(files[which]))
    assert raw.sr == config.sample_rate_hz
    assert (_digest(raw.y), _digest(finished)) == PINNED[which]


@pytest.mark.parametrize("which", sorted(PINNED))
def test_a_signal_in_memory_gives_the_samples_of_its_file(files, which):
    """The decoded samples handed over as an array (Predictor.predict, explain) read as their file does."""
    y, sr = sf.read(files[which], dtype="float32")
    raw = read_audio(y, sr=sr)
    assert (_digest(raw.y), _digest(finish_audio(raw))) == PINNED[which]
