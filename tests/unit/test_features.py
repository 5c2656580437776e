import os

import numpy as np
import pytest

from ser.audio import load_audio
from ser.config import Config, FeatureConfig, for_preset
from ser.features import (ClipTask, FeatureCache, ROW_NAMES, clip_features, extract_features,
                          extract_features_reference, extract_many)
from tests.conftest import tone


def test_shape_dtype_and_row_order(real_clip):
    y, sr = load_audio(real_clip)
    f = extract_features(y, sr=sr)
    assert f.shape == (182, 96) and f.dtype == np.float32
    assert ROW_NAMES == {"mel": slice(0, 128), "mfcc": slice(128, 168), "chroma": slice(168, 180),
                         "zcr": slice(180, 181), "rms": slice(181, 182)}
    assert np.all(f[ROW_NAMES["chroma"]] <= 1.0 + 1e-6) and np.all(f[ROW_NAMES["chroma"]] >= 0)
    assert np.all((f[180] >= 0) & (f[180] <= 1))


def test_equals_separate_librosa_calls_on_real_clips(ravdess):
    import pandas as pd

    paths = pd.read_csv(ravdess / "all_labels.csv").path[::150]
    for p in paths:
        y, sr = load_audio(ravdess / p)
        fast, ref = extract_features(y, sr=sr), extract_features_reference(y, sr=sr)
        np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-4)


def test_estimated_tuning_option_matches_librosa_default():
    y = tone(duration_s=1.5, seed=3)
    cfg = FeatureConfig(chroma_tuning=None)
    np.testing.assert_allclose(extract_features(y, sr=16_000, config=cfg),
                               extract_features_reference(y, sr=16_000, config=cfg, chroma_tuning=None),
                               rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("seconds", [0.5, 3.0, 9.0])
def test_padded_or_trimmed_to_max_frames(seconds):
    cfg = FeatureConfig(max_frames=64)
    f = extract_features(tone(duration_s=seconds), sr=16_000, config=cfg)
    assert f.shape == (182, 64)
    if seconds < cfg.window_s(16_000):  # padding is silence: RMS of the tail is zero
        assert f[181, -1] == 0.0


def test_cache_hits_and_keys(real_clip, tmp_path, monkeypatch):
    import ser.audio
    import ser.features

    calls = {"read": 0, "features": 0}
    real_read, real_features = ser.audio.read_audio, ser.features.extract_features

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ser.audio, "read_audio", counted("read", real_read))
    monkeypatch.setattr(ser.features, "extract_features", counted("features", real_features))
    config = Config()
    task = ClipTask(str(real_clip), ("original", "recording"))
    first = clip_features(task, config=config, cache_dir=tmp_path)
    assert len(list(tmp_path.rglob("*.npy"))) == 2
    assert calls == {"read": 1, "features": 2}
    again = clip_features(task, config=config, cache_dir=tmp_path)
    assert calls == {"read": 1, "features": 2}  # a hit neither decodes nor extracts
    clip_features(task, config=config, cache_dir=tmp_path, use_cache=False)
    assert calls == {"read": 2, "features": 4}
    for v in task.versions:
        np.testing.assert_array_equal(first[v], again[v])
    k = FeatureCache.key("d", "original", audio=config.audio, features=config.features, augment=config.augment,
                         seed=0)
    assert k == FeatureCache.key("d", "original", audio=config.audio, features=config.features,
                                 augment=config.augment, seed=99)  # originals do not depend on the seed
    assert k != FeatureCache.key("d", "original", audio=config.audio, features=FeatureConfig(max_frames=50),
                                 augment=config.augment, seed=0)


def test_extract_many_in_parallel_reports_progress_and_errors(ravdess, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    tasks = [ClipTask(str(ravdess / "Actor_02" / "03-01-03-01-01-01-02.wav")), ClipTask(str(bad)),
             ClipTask(str(ravdess / "Actor_02" / "03-01-04-01-01-01-02.wav")),
             ClipTask(str(ravdess / "Actor_02" / "03-01-05-01-01-01-02.wav"))]
    seen = []
    out = extract_many(tasks, config=Config(), cache_dir=tmp_path / "c", n_jobs=2,
                       progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert isinstance(out[1], Exception) and "bad.wav" in str(out[1])
    assert all(isinstance(out[i], dict) and out[i]["original"].shape == (182, 96) for i in (0, 2, 3))


@pytest.mark.parametrize("f0", [90.0, 140.0, 220.0, 330.0])
def test_prosody_rows_find_the_pitch_of_a_harmonic_tone(f0):
    from ser.features import pitch_features

    sr = 16_000
    t = np.arange(2 * sr) / sr
    y = (0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))).astype(np.float32)
    f = extract_features(y, sr=sr, config=FeatureConfig(prosody=True))
    assert f.shape == (184, 96)
    hz = 100 * 2 ** (np.median(f[182, 5:50]) / 12)
    assert hz == pytest.approx(f0, rel=0.02)
    assert np.median(f[183, 5:50]) > 0.9
    noise = np.random.default_rng(0).standard_normal(2 * sr).astype(np.float32)
    power = np.abs(np.fft.rfft(noise[:1024] * np.hanning(1024))) ** 2
    assert pitch_features(power[:, None], sr=sr, n_fft=1024)[1, 0] < 0.45  # noise is not voiced


def test_cache_is_pruned_least_recently_used_first(tmp_path, monkeypatch):
    from ser.features import FeatureCache

    cache = FeatureCache(tmp_path / "c")
    value = np.zeros((182, 100), dtype=np.float32)  # ~73 kB on disk
    for i, key in enumerate(["aa1", "bb2", "cc3", "dd4"]):
        cache.put(key, value)
        os.utime(cache._file(key), (1000 + i, 1000 + i))  # put in this order, long ago
    one = cache._file("aa1").stat().st_size
    assert cache.size_bytes() == 4 * one
    assert cache.get("aa1") is not None  # used now: the newest
    assert cache.prune(2 * one) == 2 * one
    assert cache.get("bb2") is None and cache.get("cc3") is None
    assert cache.get("aa1") is not None and cache.get("dd4") is not None
    assert cache.clear() == 2 * one and cache.size_bytes() == 0


def test_extraction_keeps_the_cache_under_its_cap(ravdess, tmp_path, monkeypatch):
    from ser.features import ClipTask, FeatureCache, extract_many

    monkeypatch.setenv("SER_CACHE_MAX_MB", "0.5")
    clips = sorted((ravdess / "Actor_02").glob("*.wav"))[:6]
    results = extract_many([ClipTask(str(p), ("original", "stretch")) for p in clips], config=for_preset("quick"),
                           cache_dir=tmp_path / "c", n_jobs=1)
    assert all(isinstance(r, dict) for r in results)
    assert 0 < FeatureCache(tmp_path / "c").size_bytes() <= 0.5 * 1024 * 1024


def test_training_refuses_an_hour_long_flac_from_its_header(tmp_path, monkeypatch):
    """clip_features reads the header first: an hour of FLAC (115 MB decoded) is refused before any sample."""
    from ser.errors import AudioError
    from tests.unit.test_audio import _long_flac, spy_reads

    path = tmp_path / "hour.flac"
    _long_flac(path, hours=1)
    asked = spy_reads(monkeypatch)
    with pytest.raises(AudioError, match=r"hour\.flac: 3600 s is too long \(limit 600 s\)"):
        clip_features(ClipTask(str(path), ("original", "recording")), config=Config(), cache_dir=tmp_path / "c")
    assert asked == [], f"decoded {sum(asked):.0f} s of a file refused from its header"
    with pytest.raises(AudioError, match=r"hour\.flac: 3600 s is too long"):  # nor as other voices' babble
        clip_features(ClipTask(str(path), ("original",), babble=(str(path),)), config=Config(), use_cache=False)
    assert asked == []


def test_training_and_prediction_hear_a_44k_file_the_same(tmp_path, monkeypatch):
    """One reader, one resampler: the waveform training trims and levels is the one prediction does."""
    import soundfile as sf

    import ser.audio
    from ser.predict import Predictor
    from tests.conftest import DEFAULT_MODEL, DEMO

    y, sr = sf.read(DEMO / "Actor_06" / "03-01-05-02-02-01-06.wav", dtype="float32")
    assert sr == 16_000
    import librosa

    path = tmp_path / "up.wav"
    sf.write(path, librosa.resample(y, orig_sr=sr, target_sr=44_100), 44_100, subtype="PCM_16")
    seen: dict[str, list] = {"read": [], "finish": []}
    real_read, real_finish = ser.audio.read_audio, ser.audio.finish_audio

    def read(*args, **kwargs):
        out = real_read(*args, **kwargs)
        seen["read"].append(out.y)
        return out

    def finish(y, **kwargs):
        seen["finish"].append(np.array(y))
        return real_finish(y, **kwargs)

    monkeypatch.setattr(ser.audio, "read_audio", read)
    monkeypatch.setattr(ser.audio, "finish_audio", finish)
    clip_features(ClipTask(str(path), ("original",)), config=Config(), use_cache=False)
    Predictor.load(DEFAULT_MODEL).predict_file(path)
    assert len(seen["read"]) == 2, "training and prediction both read the file with read_audio"
    np.testing.assert_array_equal(seen["read"][0], seen["read"][1])
    np.testing.assert_array_equal(seen["finish"][0], seen["finish"][1])
