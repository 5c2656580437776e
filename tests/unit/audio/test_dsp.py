"""ser.audio.dsp against librosa, function by function, on seeded signals and a real clip."""

import librosa
import numpy as np
import pytest

from ser.audio import dsp
from ser.audio.reader import finish_audio, read_audio


@pytest.fixture(scope="module")
def signals(real_clip):
    rng = np.random.default_rng(7)
    speech = finish_audio(read_audio(real_clip))
    return {"speech": speech, "noise": rng.normal(scale=0.1, size=24001).astype(np.float32),
            "quiet": (1e-11 * rng.standard_normal(4000)).astype(np.float32),
            "tone": np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32)}


@pytest.mark.parametrize("kind", ["speech", "noise", "tone"])
def test_stft_power_is_librosas(signals, kind):
    y = signals[kind]
    ours = dsp.stft_power(y, n_fft=1024, hop_length=512)
    ref = np.abs(librosa.stft(y, n_fft=1024, hop_length=512)) ** 2
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * ref.max())


def test_power_to_db_mfcc_and_normalize_are_librosas(signals):
    S = librosa.feature.melspectrogram(y=signals["speech"], sr=16000, n_fft=1024, hop_length=512)
    db = dsp.power_to_db(S, top_db=80.0)
    np.testing.assert_allclose(db, librosa.power_to_db(S, ref=1.0, top_db=80.0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(dsp.mfcc(db, n_mfcc=40), librosa.feature.mfcc(S=db, n_mfcc=40), rtol=1e-4, atol=1e-3)
    chroma = librosa.filters.chroma(sr=16000, n_fft=1024, tuning=0.0) @ np.abs(
        librosa.stft(signals["speech"], n_fft=1024)) ** 2
    chroma[:, :3] = 0.0  # silent frames stay 0, as librosa leaves them
    np.testing.assert_allclose(dsp.normalize_max(chroma), librosa.util.normalize(chroma, norm=np.inf, axis=-2),
                               rtol=1e-6)


@pytest.mark.parametrize("kind", ["speech", "noise", "quiet", "tone"])
def test_rms_and_zero_crossing_rate_are_librosas(signals, kind):
    y = signals[kind]
    np.testing.assert_allclose(dsp.rms(y, frame_length=1024, hop_length=512),
                               librosa.feature.rms(y=y, frame_length=1024, hop_length=512), rtol=1e-5, atol=1e-12)
    np.testing.assert_array_equal(dsp.zero_crossing_rate(y, frame_length=1024, hop_length=512),
                                  librosa.feature.zero_crossing_rate(y, frame_length=1024, hop_length=512))


@pytest.mark.parametrize("orig_sr", [8000, 22050, 44100])
def test_resample_is_librosas(signals, orig_sr):
    y = signals["noise"]
    ours = dsp.resample(y, orig_sr=orig_sr, target_sr=16000)
    ref = librosa.resample(y, orig_sr=orig_sr, target_sr=16000, res_type="soxr_hq")
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, atol=1e-7)


def test_stored_filter_banks_are_librosas_now():
    """The table in ser/audio/assets was made by this librosa: a librosa upgrade that changes a bank fails here."""
    fresh = dsp.librosa_filter_table()
    with np.load(dsp.FILTERS_FILE) as stored:
        assert sorted(stored.files) == sorted(fresh)
        for key, bank in fresh.items():
            np.testing.assert_array_equal(stored[key], bank, err_msg=key)


def test_the_default_settings_use_the_stored_banks():
    from ser.config import FeatureConfig

    c = FeatureConfig()
    assert (16000, c.n_fft, c.n_mels) in dsp.STORED_MEL
    assert (16000, c.n_fft, c.n_chroma, c.chroma_tuning) in dsp.STORED_CHROMA
    np.testing.assert_array_equal(dsp.mel_filters(sr=16000, n_fft=512, n_mels=20),
                                  librosa.filters.mel(sr=16000, n_fft=512, n_mels=20))  # not stored: librosa's
