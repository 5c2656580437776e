"""The mel spectrogram the pages draw is made with the model's own frame settings."""

import numpy as np

from ser.config import FeatureConfig
from ser.features.extract import mel_db
from tests.conftest import tone


def test_mel_db_uses_the_feature_settings_and_is_relative_to_its_peak():
    c = FeatureConfig()
    y = tone(440.0, duration_s=1.0, seed=0)
    S = mel_db(y, sr=16_000)
    assert S.shape == (c.n_mels, 1 + len(y) // c.hop_length)
    assert abs(S.max()) < 1e-4 and S.min() >= -80.0  # dB below the loudest cell, 80 dB of range
    band = int(np.argmax(S.mean(axis=1)))
    assert 0 < band < c.n_mels // 2  # a 440 Hz tone lights a low band
