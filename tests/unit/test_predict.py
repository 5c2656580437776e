import numpy as np
import pytest
import soundfile as sf

from ser import EMOTIONS
from ser.errors import AudioError, ModelError
from ser.predict import Predictor


@pytest.fixture(scope="module")
def predictor(trained_quick_model):
    return Predictor.load(trained_quick_model)


def test_predict_file_gives_8_probabilities(predictor, real_clip):
    pred = predictor.predict_file(real_clip)
    assert set(pred.probabilities) == set(EMOTIONS)
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert pred.emotion == max(pred.probabilities, key=pred.probabilities.get)


def test_48k_stereo_equals_16k_mono_closely(predictor, real_clip, tmp_path):
    import librosa

    y, sr = sf.read(real_clip, dtype="float32")
    up = librosa.resample(y, orig_sr=sr, target_sr=48_000)
    sf.write(tmp_path / "stereo.wav", np.stack([up, up], axis=1), 48_000)
    a = predictor.predict_file(real_clip).probabilities
    b = predictor.predict_file(tmp_path / "stereo.wav").probabilities
    assert max(abs(a[e] - b[e]) for e in EMOTIONS) < 0.1


def test_timeline_covers_long_audio(predictor, ravdess):
    clips = [sf.read(ravdess / "Actor_03" / f"03-01-0{e}-01-01-01-03.wav", dtype="float32")[0] for e in (3, 4, 5)]
    y = np.concatenate(clips)
    rows = predictor.predict_timeline(y, sr=16_000)
    assert len(rows) >= 3
    assert rows[0]["start_s"] == 0 and rows[-1]["end_s"] == pytest.approx(len(y) / 16_000, abs=0.05)
    assert all(sum(r[e] for e in EMOTIONS) == pytest.approx(1, abs=1e-4) for r in rows)


def test_bad_audio_and_bad_model(predictor, tmp_path):
    (tmp_path / "x.wav").write_text("nope")
    with pytest.raises(AudioError, match=r"x\.wav: not a readable audio file"):
        predictor.predict_file(tmp_path / "x.wav")
    with pytest.raises(ModelError, match="no such model folder"):
        Predictor.load(tmp_path / "nothing")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="holds neither model.keras nor model.h5"):
        Predictor.load(tmp_path / "half")


def test_h5_copy_loads_and_agrees(trained_quick_model, tmp_path, real_clip):
    import shutil

    for f in ("model.h5", "config.json"):
        shutil.copy(trained_quick_model / f, tmp_path / f)
    a = Predictor.load(tmp_path).predict_file(real_clip).probabilities
    b = Predictor.load(trained_quick_model).predict_file(real_clip).probabilities
    assert max(abs(a[e] - b[e]) for e in EMOTIONS) < 1e-4
