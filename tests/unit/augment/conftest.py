"""What the augmentation tests share: a real speech clip as a float32 waveform."""

import numpy as np
import pytest
import soundfile as sf

SR = 16_000


@pytest.fixture(scope="module")
def speech(real_clip) -> np.ndarray:
    y, sr = sf.read(real_clip, dtype="float32")
    assert sr == SR
    return y
