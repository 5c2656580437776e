import os

import numpy as np
import pytest

from ser.audio.reader import finish_audio, read_audio
from ser.config import Config, FeatureConfig, for_preset
from ser.features.cache import FeatureCache
from ser.features.clips import ClipTask, clip_features
from ser.features.engine import extract_many
from ser.features.extract import ROW_NAMES, extract_features
from ser.features.reference import extract_features_reference
from tests.conftest import tone


def test_shape_dtype_and_row_order(real_clip):
    y, sr = finish_audio(read_audio(real_clip)), 16_000
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
        y, sr = finish_audio(read_audio(ravdess / p)), 16_000
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
    for pad_mode in ("silence", "repeat"):
        cfg = FeatureConfig(max_frames=64, pad_mode=pad_mode)
        f = extract_features(tone(duration_s=seconds), sr=16_000, config=cfg)
        assert f.shape == (182, 64)
        if seconds < cfg.window_s(16_000):  # silence padding: RMS of the tail is zero; repeated, it is not
            assert (f[181, -1] == 0.0) == (pad_mode == "silence")


def test_cache_hits_and_keys(real_clip, tmp_path, monkeypatch):
    import ser.audio.reader
    import ser.features.clips

    calls = {"read": 0, "features": 0}
    real_read, real_features = ser.audio.reader.read_audio, ser.features.clips.extract_features

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(ser.audio.reader, "read_audio", counted("read", real_read))
    monkeypatch.setattr(ser.features.clips, "extract_features", counted("features", real_features))
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
    from ser.features.extract import pitch_features

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
    from ser.features.cache import FeatureCache

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
    from ser.features.cache import FeatureCache
    from ser.features.clips import ClipTask
    from ser.features.engine import extract_many

    monkeypatch.setenv("SER_CACHE_MAX_MB", "0.5")
    clips = sorted((ravdess / "Actor_02").glob("*.wav"))[:6]
    results = extract_many([ClipTask(str(p), ("original", "stretch")) for p in clips], config=for_preset("quick"),
                           cache_dir=tmp_path / "c", n_jobs=1)
    assert all(isinstance(r, dict) for r in results)
    assert 0 < FeatureCache(tmp_path / "c").size_bytes() <= 0.5 * 1024 * 1024


def test_training_refuses_an_hour_long_flac_from_its_header(tmp_path, monkeypatch):
    """clip_features reads the header first: an hour of FLAC (115 MB decoded) is refused before any sample."""
    from ser.errors import AudioError
    from tests.unit.audio.test_reader import _long_flac, spy_reads

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

    import ser.audio.reader
    from ser.serving.predict import Predictor
    from tests.conftest import DEFAULT_MODEL, DEMO

    y, sr = sf.read(DEMO / "Actor_06" / "03-01-05-02-02-01-06.wav", dtype="float32")
    assert sr == 16_000
    import librosa

    path = tmp_path / "up.wav"
    sf.write(path, librosa.resample(y, orig_sr=sr, target_sr=44_100), 44_100, subtype="PCM_16")
    seen: dict[str, list] = {"read": [], "finish": []}
    real_read, real_finish = ser.audio.reader.read_audio, ser.audio.reader.finish_audio

    def read(*args, **kwargs):
        out = real_read(*args, **kwargs)
        seen["read"].append(out.y)
        return out

    def finish(y, **kwargs):
        seen["finish"].append(np.array(y))
        return real_finish(y, **kwargs)

    monkeypatch.setattr(ser.audio.reader, "read_audio", read)
    monkeypatch.setattr(ser.audio.reader, "finish_audio", finish)
    clip_features(ClipTask(str(path), ("original",)), config=Config(), use_cache=False)
    Predictor.load(DEFAULT_MODEL).predict_file(path)
    assert len(seen["read"]) == 2, "training and prediction both read the file with read_audio"
    np.testing.assert_array_equal(seen["read"][0], seen["read"][1])
    np.testing.assert_array_equal(seen["finish"][0], seen["finish"][1])


# --- any utterance length (issue 19 part 4) --------------------------------------------------------


def _short_word(seconds: float = 1.0) -> np.ndarray:
    """A real utterance cut to ``seconds``, prepared as prediction prepares it (trimmed, levelled)."""
    from tests.conftest import DEMO

    y, sr = finish_audio(read_audio(sorted(DEMO.glob("Actor_12/*.wav"))[0])), 16_000
    return finish_audio(read_audio(y[: int(seconds * sr)], sr=sr, config=Config().audio), config=Config().audio)


def test_repeat_padding_fills_the_window_with_the_clips_own_frames():
    cfg = FeatureConfig(pad_mode="repeat")
    y = _short_word(1.0)
    assert 0.5 * 16_000 < len(y) < cfg.window_samples / 2
    f = extract_features(y, sr=16_000, config=cfg)
    assert f.shape == (182, cfg.max_frames)
    assert np.all(f[ROW_NAMES["rms"]] > 0)  # no padded silent frame
    tiled = np.tile(y, -(-cfg.window_samples // len(y)))[: cfg.window_samples]
    np.testing.assert_array_equal(f, extract_features(tiled, sr=16_000, config=cfg))
    silent = extract_features(y, sr=16_000, config=FeatureConfig(pad_mode="silence"))
    assert np.sum(silent[ROW_NAMES["rms"]] == 0) > cfg.max_frames / 3  # the old way: most of the window silence


def test_pad_mode_changes_nothing_for_a_clip_as_long_as_the_window():
    y = tone(duration_s=4.0)
    np.testing.assert_array_equal(extract_features(y, sr=16_000, config=FeatureConfig(pad_mode="repeat")),
                                  extract_features(y, sr=16_000, config=FeatureConfig(pad_mode="silence")))


def test_new_configs_repeat_and_a_config_json_without_pad_mode_loads_as_silence(tmp_path):
    import json

    from tests.conftest import DEFAULT_MODEL

    assert FeatureConfig().pad_mode == "repeat" and Config().features.pad_mode == "repeat"
    assert Config.load(DEFAULT_MODEL / "config.json").features.pad_mode == "repeat"  # trained with it
    old = Config().to_dict()  # a config.json written before the field: its model was trained on silence padding
    del old["features"]["pad_mode"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert Config.load(tmp_path / "config.json").features.pad_mode == "silence"
    assert Config.from_dict(Config().to_dict()).features.pad_mode == "repeat"


def test_an_unknown_pad_mode_is_one_line():
    from ser.errors import ConfigError

    with pytest.raises(ConfigError, match="pad_mode='loop' is unknown; choose repeat or silence"):
        FeatureConfig(pad_mode="loop")


def test_the_cache_key_of_a_silence_padded_model_is_as_before():
    """Models saved before pad_mode keep their cached features: their key has no pad_mode in it."""
    import hashlib
    import json
    from dataclasses import asdict

    from ser.config import AudioConfig, AugmentConfig
    from ser.features.cache import PIPELINE_REVISION

    feats = FeatureConfig(pad_mode="silence")
    before = {k: v for k, v in asdict(feats).items() if k != "pad_mode"}
    blob = json.dumps({"audio": asdict(AudioConfig()), "features": before, "version": "original",
                       "pipeline": PIPELINE_REVISION}, sort_keys=True).encode()
    key = FeatureCache.key("d1", "original", audio=AudioConfig(), features=feats, augment=AugmentConfig(), seed=0)
    assert key == hashlib.sha1(b"d1" + blob).hexdigest()
    assert key != FeatureCache.key("d1", "original", audio=AudioConfig(), features=FeatureConfig(pad_mode="repeat"),
                                   augment=AugmentConfig(), seed=0)
