import numpy as np
import pytest
import soundfile as sf

from ser import EMOTIONS
from ser.errors import AudioError, ModelError
from ser.serving.predict import Predictor


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
    assert all(sum(r[e] for e in EMOTIONS) == pytest.approx(1, abs=1e-4) for r in rows if r["emotion"])
    assert all(r["speech"] > 0 for r in rows)  # three clips of speech, a window never falls in silence alone


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


@pytest.fixture(scope="module")
def shipped():
    from tests.conftest import DEFAULT_MODEL

    return Predictor.load(DEFAULT_MODEL)


@pytest.mark.parametrize("kind", ["white noise", "pink noise", "440 Hz tone", "DC"])
def test_non_speech_gets_no_emotion(shipped, kind):
    from tests.unit.audio.test_speech import non_speech

    pred = shipped.predict(non_speech(kind), sr=16_000, name=kind)
    assert pred.emotion is None and pred.confidence is None and pred.n_windows == 0
    assert pred.reason == "no speech detected" and str(pred) == "no speech detected"


def test_far_above_full_scale_float_file_warns_and_still_predicts(shipped, tmp_path):
    from tests.conftest import DEMO

    clip = next((DEMO / "Actor_19").glob("*.wav"))
    y, sr = sf.read(clip, dtype="float32")
    sf.write(tmp_path / "x50.wav", 50 * y / np.abs(y).max(), sr, subtype="FLOAT")
    loud, ref = shipped.predict_file(tmp_path / "x50.wav"), shipped.predict_file(clip)
    assert loud.emotion == ref.emotion and any("50 times full scale" in w for w in loud.warnings)


def _clips_predicted_right(emotion: str) -> list:
    import pandas as pd

    from tests.conftest import DEFAULT_MODEL, DEMO

    preds = pd.read_csv(DEFAULT_MODEL / "predictions.csv")
    demo = set(pd.read_csv(DEMO / "all_labels.csv").path)
    ok = preds[(preds.true == emotion) & (preds.predicted == emotion) & preds.path.isin(demo)]
    return [DEMO / p for p in ok.sort_values(emotion, ascending=False).path]


def test_long_upload_is_judged_on_all_its_speech(shipped):
    """One angry clip then ten calm ones: the first window says angry, the whole upload calm."""
    angry, calm = _clips_predicted_right("angry")[0], _clips_predicted_right("calm")[:10]
    gap = np.zeros(8_000, np.float32)
    y = np.concatenate([c for p in [angry, *calm] for c in (sf.read(p, dtype="float32")[0], gap)])
    assert len(y) / 16_000 > 25
    pred = shipped.predict(y, sr=16_000)
    assert shipped.predict_file(angry).emotion == "angry"
    assert pred.emotion == "calm" and pred.n_windows >= 10
    assert str(pred).startswith("calm ") and f"from {pred.n_windows} windows of speech" in str(pred)


def test_an_upload_is_decoded_and_prepared_once(shipped, monkeypatch):
    import soundfile

    import ser.audio.reader

    calm = _clips_predicted_right("calm")[:6]
    buf = __import__("io").BytesIO()
    sf.write(buf, np.concatenate([sf.read(p, dtype="float32")[0] for p in calm]), 16_000, format="WAV")
    calls = {"open": 0, "read": 0}
    real_open, real_read = soundfile.SoundFile, ser.audio.reader.read_audio

    def counted(key, fn):
        def wrapper(*a, **k):
            calls[key] += 1
            return fn(*a, **k)
        return wrapper

    monkeypatch.setattr(soundfile, "SoundFile", counted("open", real_open))
    monkeypatch.setattr(ser.audio.reader, "read_audio", counted("read", real_read))
    pred = shipped.predict_file(buf.getvalue(), name="six.wav", timeline=True)
    assert pred.emotion is not None and len(pred.timeline) >= 5 and pred.duration_s > 10
    assert calls == {"open": 1, "read": 1}


def test_cli_says_no_speech_in_text_and_json(tmp_path, capsys):
    import json

    from ser.__main__ import main
    from tests.conftest import DEFAULT_MODEL
    from tests.unit.audio.test_speech import non_speech

    sf.write(tmp_path / "hum.wav", non_speech("440 Hz tone"), 16_000)
    speech = _clips_predicted_right("calm")[0]
    assert main(["predict", "--model", str(DEFAULT_MODEL), str(tmp_path / "hum.wav"), str(speech)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{tmp_path / 'hum.wav'}: no speech detected" and out[1].startswith(f"{speech}: calm (")
    assert main(["predict", "--model", str(DEFAULT_MODEL), "--json", str(tmp_path / "hum.wav"), str(speech)]) == 0
    hum, clip = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hum["emotion"] is None and hum["reason"] == "no speech detected" and hum["probabilities"] == {}
    assert clip["emotion"] == "calm" and clip["n_windows"] == 1 and len(clip["probabilities"]) == 8


@pytest.mark.parametrize("seed", range(12))
def test_a_seeded_bark_gets_no_emotion(shipped, seed):
    from tests.unit.audio.test_speech import bark

    pred = shipped.predict(bark(seed), sr=16_000, name="bark")
    assert pred.emotion is None and pred.reason == "no speech detected", str(pred)


def test_a_crowd_of_voices_gets_no_emotion_but_one_voice_over_babble_does(shipped):
    from ser.augment.transforms import apply_condition
    from tests.unit.audio.test_speech import crowd, demo_clips

    pred = shipped.predict(crowd(6), sr=16_000, name="crowd")
    assert pred.emotion is None and pred.probabilities == {} and pred.n_windows == 0
    assert pred.reason == "several voices at once: no single speaker" == str(pred)
    assert pred.to_dict()["reason"] == pred.reason
    raw = demo_clips(5, raw=True)
    mixed = apply_condition(raw[0], "babble10", sr=16_000, rng=np.random.default_rng(0), babble_sources=raw[1:4])
    one = shipped.predict(mixed, sr=16_000, name="one voice over babble")
    assert one.emotion is not None and one.reason == ""


def test_a_crowd_gets_no_emotion_on_the_timeline_nor_in_an_explanation_either(shipped):
    """The crowd rule is the windows' own: the timeline and the explanation weigh windows as the answer does."""
    from ser.serving.explain import explain
    from tests.unit.audio.test_speech import crowd

    y = np.concatenate([crowd(6), crowd(8)])
    rows = shipped.predict_timeline(y, sr=16_000)
    crowded = [r for r in rows if r["several_voices"]]
    assert crowded and all(r["emotion"] is None and r["speech"] == 0 for r in crowded)
    assert explain(shipped, y, sr=16_000).emotion is None


# --- closed-set answers (issue 19 part 3) ----------------------------------------------------------

CALL_CENTRE = ("neutral", "happy", "sad", "angry")


def test_a_restricted_answer_is_the_open_mean_renormalised_over_the_chosen_emotions(shipped):
    from ser.datasets.emotions import restrict

    clip = _clips_predicted_right("angry")[0]
    y, sr = sf.read(clip, dtype="float32")
    long = np.concatenate([y, np.zeros(4_000, np.float32), y, y])  # several windows: the mean is restricted
    for audio in (y, long):
        open_ = shipped.predict(audio, sr=sr)
        closed = shipped.predict(audio, sr=sr, emotions=CALL_CENTRE)
        assert list(closed.probabilities) == list(CALL_CENTRE)  # only the chosen ones, in the model's order
        assert sum(closed.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        expected = restrict(np.array([open_.probabilities[e] for e in shipped.emotions]), emotions=shipped.emotions,
                            keep=CALL_CENTRE)
        for e in CALL_CENTRE:
            assert closed.probabilities[e] == pytest.approx(float(expected[shipped.emotions.index(e)]), abs=1e-5)
        assert closed.emotion == max(closed.probabilities, key=closed.probabilities.get)
        assert closed.n_windows == open_.n_windows
    assert shipped.predict(long, sr=sr, emotions=CALL_CENTRE).n_windows > 1


@pytest.mark.parametrize("emotion", ["calm", "fearful", "surprised", "disgust"])
def test_a_restricted_answer_never_names_an_emotion_outside_the_set(shipped, emotion):
    """Clips the open model calls ``emotion`` (outside the call-centre set) get an answer inside it."""
    clips = _clips_predicted_right(emotion)[:2]
    assert clips
    for clip in clips:
        assert shipped.predict_file(clip).emotion == emotion
        pred = shipped.predict_file(clip, emotions=CALL_CENTRE, timeline=True)
        assert pred.emotion in CALL_CENTRE and set(pred.probabilities) == set(CALL_CENTRE)
        assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert pred.timeline
        for row in pred.timeline:
            assert not set(row) & (set(shipped.emotions) - set(CALL_CENTRE))
            if row["emotion"] is not None:
                assert row["emotion"] in CALL_CENTRE
                assert sum(row[e] for e in CALL_CENTRE) == pytest.approx(1.0, abs=1e-5)


def test_a_restricted_timeline_holds_only_the_chosen_emotions(shipped):
    calm = _clips_predicted_right("calm")[:3]
    y = np.concatenate([sf.read(p, dtype="float32")[0] for p in calm])
    rows = shipped.predict_timeline(y, sr=16_000, emotions=("calm", "sad"))
    assert len(rows) > 1
    for row in rows:
        assert {"calm", "sad"} <= set(row) and "angry" not in row and "neutral" not in row
        if row["emotion"] is not None:
            assert row["emotion"] in ("calm", "sad") and row["calm"] + row["sad"] == pytest.approx(1.0, abs=1e-5)


def test_a_bad_choice_of_emotions_is_refused_before_any_work(shipped):
    from ser.errors import ConfigError

    y = np.zeros(16_000, np.float32)
    with pytest.raises(ConfigError, match="angry is one emotion only"):
        shipped.predict(y, sr=16_000, emotions=("angry",))
    with pytest.raises(ConfigError, match="bored is not an emotion this model knows"):
        shipped.predict(y, sr=16_000, emotions=("angry", "bored"))
    with pytest.raises(ConfigError, match="one emotion only"):
        shipped.predict_timeline(y, sr=16_000, emotions=())


def test_no_speech_stays_no_speech_when_restricted(shipped):
    from tests.unit.audio.test_speech import non_speech

    pred = shipped.predict(non_speech("white noise"), sr=16_000, emotions=CALL_CENTRE)
    assert pred.emotion is None and pred.probabilities == {} and pred.reason == "no speech detected"


# --- any utterance length (issue 19 part 4) --------------------------------------------------------


def _repeat_padded(predictor):
    from dataclasses import replace

    p = Predictor(predictor.model, predictor.config, predictor.model_dir, runtime=predictor.runtime)
    p.config = replace(p.config, features=replace(p.config.features, pad_mode="repeat"))
    return p


def _short_demo_clips(seconds: float = 0.8) -> list:
    """The middle ``seconds`` of the speech of one demo clip per speaker and emotion (32 real short utterances)."""
    import pandas as pd

    from ser.audio.reader import finish_audio, read_audio
    from ser.config import AudioConfig
    from tests.conftest import DEMO

    labels = pd.read_csv(DEMO / "all_labels.csv").groupby(["speaker", "emotion"]).head(1)
    out = []
    for path in labels.path:
        y, sr = sf.read(DEMO / path, dtype="float32")
        y = finish_audio(read_audio(y, sr=sr, config=AudioConfig()))
        mid, half = len(y) // 2, int(seconds * 16_000) // 2
        out.append(y[mid - half: mid + half])
    return out


def test_a_short_clip_is_seen_as_its_own_frames_only_with_repeat_padding(shipped, monkeypatch):
    from ser.audio.reader import finish_audio, read_audio
    from ser.features.extract import ROW_NAMES, extract_features

    p = _repeat_padded(shipped)
    y = _short_demo_clips(0.8)[0]
    seen = []
    real = p.predict_features
    monkeypatch.setattr(p, "predict_features", lambda X, **k: seen.append(X.copy()) or real(X, **k))
    pred = p.predict(y, sr=16_000)
    assert pred.emotion is not None and len(seen) == 1 and seen[0].shape[0] == 1
    window = seen[0][0]
    assert np.all(window[ROW_NAMES["rms"]] > 0)  # every frame the model sees is the clip's, none silence
    prepared = finish_audio(read_audio(y, sr=16_000, config=p.config.audio), config=p.config.audio)
    tiled = np.tile(prepared, -(-p.config.features.window_samples // len(prepared)))
    np.testing.assert_allclose(window, extract_features(tiled, sr=16_000, config=p.config.features), atol=1e-5)


def test_real_short_clips_get_real_answers_with_repeat_padding(shipped):
    """32 real 0.8 s utterances (8 emotions): the answers are not one emotion (the shipped model, trained on
    silence-padded clips, says fearful to most of them when they are padded with silence)."""
    from collections import Counter

    p = _repeat_padded(shipped)
    answers = Counter(p.predict(y, sr=16_000).emotion for y in _short_demo_clips(0.8))
    assert None not in answers
    assert len(answers) >= 3 and max(answers.values()) <= 0.6 * sum(answers.values()), answers
