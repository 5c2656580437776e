"""The librosa reference of :func:`ser.features.extract.extract_features`: each feature computed the
straightforward way, to check the fast path and as the benchmark's baseline (needs librosa)."""

from __future__ import annotations

import numpy as np

from ser.config import FeatureConfig

__all__ = ["extract_features_reference"]


def extract_features_reference(y: np.ndarray, *, sr: int, config: FeatureConfig | None = None,
                               chroma_tuning: float | None | str = "config") -> np.ndarray:
    """The straightforward way: each of the five features computed by librosa from the waveform.

    Used to check :func:`extract_features` and as the baseline of the benchmark. With
    ``chroma_tuning=None`` chroma estimates its tuning per clip, as librosa's default does.

    Returns
    -------
    np.ndarray, shape (config.n_features, config.max_frames), float32
    """
    import librosa

    c = config or FeatureConfig()
    tuning = c.chroma_tuning if chroma_tuning == "config" else chroma_tuning
    y = np.asarray(y, dtype=np.float32)
    if c.pad_mode == "repeat" and 0 < len(y) < c.window_samples:
        y = np.tile(y, -(-c.window_samples // len(y)))
    y = librosa.util.fix_length(y, size=c.window_samples)
    kw = {"n_fft": c.n_fft, "hop_length": c.hop_length}
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=c.n_mels, **kw),
                              ref=1.0, top_db=c.top_db)
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=c.n_mfcc, n_mels=c.n_mels, **kw)  # its dB uses top_db=80
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, n_chroma=c.n_chroma, tuning=tuning, **kw)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=c.n_fft, hop_length=c.hop_length)
    rms = librosa.feature.rms(y=y, frame_length=c.n_fft, hop_length=c.hop_length)
    return np.vstack([mel, mfcc, chroma, zcr, rms]).astype(np.float32)
