"""Per-speaker normalisation (issue 19 part 5): applied only when asked, only from that speaker's own
original clips, and an enrolment of under 3 s or without speech is one line."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ser.config import Config, TrainConfig, for_preset
from ser.errors import AudioError, ConfigError, LabelsError

DEMO = Path(__file__).resolve().parents[3] / "data" / "demo"
SHIPPED = Path(__file__).resolve().parents[3] / "models" / "default"
NF, NT = 182, 96


def _split() -> pd.DataFrame:
    """Two speakers (a, b) in test, one in train, and a clip without a speaker."""
    rows = [("a1.wav", "angry", "a", "test"), ("a2.wav", "sad", "a", "test"),
            ("b1.wav", "angry", "b", "test"), ("b2.wav", "happy", "b", "test"),
            ("t1.wav", "sad", "t", "train"), ("t2.wav", "angry", "t", "train"),
            ("n1.wav", "happy", "", "test")]
    return pd.DataFrame([{"path": p, "abspath": f"/nowhere/{p}", "emotion": e, "speaker": s, "split": sp}
                         for p, e, s, sp in rows])


def _fake_features(shift: dict[str, float] | None = None, aug_shift: float = 0.0):
    """A stand-in for extract_many: seeded features per clip (every version for training clips), each
    clip's values moved by ``shift[path]``, augmented versions by ``aug_shift`` more."""
    shift = shift or {}

    def extract_many(tasks, *, config, cache_dir=None, should_stop=None, progress=None, cluster=None):
        out = []
        for task in tasks:
            name = Path(task.path).name
            rng = np.random.default_rng(sum(map(ord, name)))
            base = rng.normal(size=(NF, NT)).astype(np.float32) + shift.get(name, 0.0)
            out.append({v: base if v == "original" else base + 1.0 + aug_shift for v in task.versions})
        return out

    return extract_many


def _data(monkeypatch, config: Config, **kw):
    import ser.features.engine
    from ser.training.dataset import features_for_split

    monkeypatch.setattr(ser.features.engine, "extract_many", _fake_features(**kw))
    data, failed = features_for_split(_split(), config)
    assert not failed
    return {p: x for part in data.values() for p, x in zip(part["path"], part["X"])}


def _config(speaker_norm: bool, augment: bool = False) -> Config:
    return for_preset("quick", speaker_norm=speaker_norm, augment=augment)


def test_speaker_norm_is_off_by_default_and_old_configs_load_without_it():
    assert TrainConfig().speaker_norm is False
    data = for_preset("quick").to_dict()
    del data["train"]["speaker_norm"]
    assert Config.from_dict(data).train.speaker_norm is False


def test_features_are_untouched_unless_speaker_norm_is_asked(monkeypatch):
    raw = _data(monkeypatch, _config(False))
    plain = _fake_features()([type("T", (), {"path": f"/x/{p}", "versions": ("original",)})() for p in raw], config=None)
    for (path, x), ref in zip(raw.items(), plain):
        np.testing.assert_array_equal(x, ref["original"])
    normed = _data(monkeypatch, _config(True))
    assert not np.allclose(normed["a1.wav"], raw["a1.wav"])


def test_each_speaker_is_normalised_by_its_own_clips_only(monkeypatch):
    raw = _data(monkeypatch, _config(False))
    normed = _data(monkeypatch, _config(True))
    mean_a = np.concatenate([raw["a1.wav"], raw["a2.wav"]], axis=1).mean(axis=1)
    np.testing.assert_allclose(normed["a1.wav"], raw["a1.wav"] - mean_a[:, None], atol=1e-5)
    # the speaker's frames together have mean 0 in every row
    both = np.concatenate([normed["a1.wav"], normed["a2.wav"]], axis=1)
    np.testing.assert_allclose(both.mean(axis=1), 0, atol=1e-5)
    # another speaker's clips (test or training) moved: nothing changes for speaker a
    moved = _data(monkeypatch, _config(True), shift={"b1.wav": 5.0, "b2.wav": -3.0, "t1.wav": 7.0})
    np.testing.assert_array_equal(moved["a1.wav"], normed["a1.wav"])
    np.testing.assert_array_equal(moved["a2.wav"], normed["a2.wav"])
    assert not np.allclose(moved["b1.wav"], normed["b1.wav"])


def test_a_clip_without_speaker_is_normalised_by_its_own_frames(monkeypatch):
    raw = _data(monkeypatch, _config(False))
    normed = _data(monkeypatch, _config(True))
    np.testing.assert_allclose(normed["n1.wav"], raw["n1.wav"] - raw["n1.wav"].mean(axis=1, keepdims=True), atol=1e-5)


def test_augmented_versions_never_enter_the_statistics(monkeypatch):
    normed = _data(monkeypatch, _config(True, augment=True))
    louder = _data(monkeypatch, _config(True, augment=True), aug_shift=10.0)
    originals = [p for p in normed if p.startswith("t") and "#" not in p]
    augmented = [p for p in normed if p.startswith("t") and "#" in p]
    assert originals and augmented
    for p in originals:  # the originals' statistics do not move when the augmented versions do
        np.testing.assert_array_equal(louder[p], normed[p])
    for p in augmented:  # each augmented version is normalised with its speaker's original statistics
        np.testing.assert_allclose(louder[p], normed[p] + 10.0, atol=1e-4)


def test_speaker_stats_and_normalise_are_pure_row_means():
    from ser.features.speakers import normalise, speaker_stats

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(4, 10)) + 3, rng.normal(size=(4, 6)) - 1]
    mean = speaker_stats(X)
    np.testing.assert_allclose(mean, np.concatenate(X, axis=1).mean(axis=1))
    np.testing.assert_allclose(normalise(X[0], mean=mean), X[0] - mean[:, None])
    stacked = rng.normal(size=(3, 4, 10))
    np.testing.assert_allclose(normalise(stacked, mean=mean), stacked - mean[None, :, None])
    with pytest.raises(ConfigError, match="shape"):
        normalise(X[0], mean=np.zeros(5))
    # frames of digital silence (a silence-padded short clip) are left out of the statistics
    padded = np.concatenate([np.ones((4, 5)), np.zeros((4, 5))], axis=1)
    padded[0, :5] = 2.0
    np.testing.assert_allclose(speaker_stats([padded], rms_row=1), [2, 1, 1, 1])


@pytest.fixture(scope="module")
def predictor():
    from ser.serving.predict import Predictor

    return Predictor.load(SHIPPED)


def _demo(n: int) -> list[Path]:
    labels = pd.read_csv(DEMO / "all_labels.csv")
    return [DEMO / p for p in labels["path"][:n]]


def test_enrolment_under_3_s_of_speech_is_one_line(predictor):
    import soundfile as sf

    y, sr = sf.read(_demo(1)[0], dtype="float32")
    with pytest.raises(AudioError, match=r"^enrolment: .* s of speech .* at least 3 s") as err:
        predictor.enrol([(y[: int(1.5 * sr)], sr)])
    assert "\n" not in str(err.value)


def test_enrolment_without_speech_is_one_line(predictor):
    rng = np.random.default_rng(0)
    silence = np.zeros(16_000 * 4, np.float32)
    noise = (0.05 * rng.normal(size=16_000 * 4)).astype(np.float32)
    for clips in ([(silence, 16_000)], [(noise, 16_000), (silence, 16_000)]):
        with pytest.raises(AudioError, match=r"^enrolment: no speech in") as err:
            predictor.enrol(clips)
        assert "\n" not in str(err.value)
    with pytest.raises(AudioError, match="^enrolment: no clip"):
        predictor.enrol([])


def test_enrolment_on_a_model_without_speaker_norm_changes_nothing_and_says_so(predictor):
    stats = predictor.enrol(_demo(3))
    assert stats.seconds >= 3 and stats.n_clips == 3 and stats.mean.shape == (NF,)
    assert not stats.applies and "trained without per-speaker normalisation" in stats.note
    clip = _demo(5)[4]
    assert predictor.predict_file(clip, speaker=stats).probabilities == predictor.predict_file(clip).probabilities


class _Recorder:
    """A model that remembers its inputs and answers from their mean."""

    input_shape = (None, NF, NT)
    output_shape = (None, 8)

    def __init__(self):
        self.seen = []

    def predict_on_batch(self, X):
        self.seen.append(np.array(X))
        p = np.tile(np.linspace(1, 2, 8, dtype=np.float32), (len(X), 1)) + np.asarray(X).mean(axis=(1, 2))[:, None]
        return p / p.sum(axis=1, keepdims=True)


def _speaker_norm_predictor():
    from ser.serving.predict import Predictor

    config = Config.load(SHIPPED / "config.json")
    from dataclasses import replace

    config = replace(config, train=replace(config.train, speaker_norm=True),
                     features=replace(config.features, pad_mode="silence"))  # zero padding, left out below
    return Predictor(_Recorder(), config, SHIPPED)


def test_a_speaker_norm_model_gets_the_enrolled_statistics_subtracted():
    from ser.audio.reader import finish_audio, read_audio
    from ser.features.extract import extract_features

    pred = _speaker_norm_predictor()
    stats = pred.enrol(_demo(3))
    assert stats.applies and stats.note == ""
    clip = _demo(5)[4]
    pred.predict_file(clip, speaker=stats)
    y = finish_audio(read_audio(clip, config=pred.config.audio).y, config=pred.config.audio)
    w = pred.config.features.window_samples
    raw = np.stack([extract_features(y[s:s + w], sr=16_000, config=pred.config.features)
                    for s in pred.window_starts(len(y))])
    np.testing.assert_allclose(pred.model.seen[-1], raw - stats.mean[None, :, None], atol=1e-4)
    # without an enrolment the clip is normalised by its own frames (all its windows', the zero padding
    # of this silence-padded model left out)
    pred.predict_file(clip)
    frames = np.concatenate(list(raw), axis=1)
    assert pred.config.features.pad_mode == "silence" and (frames[181] == 0).any()
    own = frames[:, frames[181] != 0].mean(axis=1)
    np.testing.assert_allclose(pred.model.seen[-1], raw - own[None, :, None], atol=1e-4)
    with pytest.raises(ConfigError, match="speaker statistics"):
        pred.predict_file(clip, speaker=np.zeros(3))


def _speaker_norm_model(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    config = json.loads((model / "config.json").read_text())
    config["train"]["speaker_norm"] = True
    config["train"]["encoder_member"] = False  # the shipped networks alone: the tests give features, not audio
    (model / "config.json").write_text(json.dumps(config))
    return model


def _labels(tmp_path: Path, *, speakers: bool) -> Path:
    labels = pd.read_csv(DEMO / "all_labels.csv").groupby("speaker").head(4)
    for p in labels["path"]:  # a copy of 4 demo clips a speaker: labels name clips inside their own folder
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / p, tmp_path / p)
    if not speakers:
        labels = labels.drop(columns="speaker")
    out = tmp_path / "labels.csv"
    labels.to_csv(out, index=False)
    return out


def test_evaluate_speaker_norm_says_so(tmp_path, capsys):
    from ser.__main__ import main

    model, labels = _speaker_norm_model(tmp_path), _labels(tmp_path, speakers=True)
    assert main(["evaluate", "--model", str(model), "--labels", str(labels), "--out", str(tmp_path / "ev"),
                 "--speaker-norm"]) == 0
    assert "per-speaker normalisation (each speaker's own unlabelled clips)" in capsys.readouterr().out
    assert json.loads((tmp_path / "ev" / "report.json").read_text())["speaker_norm"] is True


def test_evaluate_speaker_norm_without_speakers_is_one_line(tmp_path, capsys):
    from ser.__main__ import main

    model, labels = _speaker_norm_model(tmp_path), _labels(tmp_path, speakers=False)
    assert main(["evaluate", "--model", str(model), "--labels", str(labels), "--out", str(tmp_path / "ev"),
                 "--speaker-norm"]) == 2
    err = capsys.readouterr().err.strip()
    assert "names no speaker" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "ev" / "report.json").exists()
    # a model trained without it refuses the option
    assert main(["evaluate", "--model", str(SHIPPED), "--labels", str(_labels(tmp_path, speakers=True)),
                 "--out", str(tmp_path / "ev2"), "--speaker-norm"]) == 2
    assert "trained without per-speaker normalisation" in capsys.readouterr().err


def test_evaluate_model_speaker_norm_needs_speakers_and_says_so(tmp_path):
    from ser.results.evaluate import evaluate_model

    model, labels = _speaker_norm_model(tmp_path), _labels(tmp_path, speakers=True)
    with pytest.raises(LabelsError, match="names no speaker"):
        evaluate_model(model, _nospk(tmp_path), tmp_path / "x", speaker_norm=True)
    report = evaluate_model(model, labels, tmp_path / "ev", speaker_norm=True)
    assert report["speaker_norm"] is True and report["n_clips"] == len(pd.read_csv(labels))


def _nospk(tmp_path: Path) -> Path:
    d = tmp_path / "nospk"
    d.mkdir(exist_ok=True)
    return _labels(d, speakers=False)


def test_robustness_of_a_speaker_norm_model_normalises_each_speaker_under_each_condition(monkeypatch):
    import ser.features.engine
    from ser.results.robustness import robustness_report

    def extract_many(tasks, *, config, cache_dir=None, should_stop=None, progress=None, cluster=None):
        rng = np.random.default_rng(0)
        return [{v: rng.normal(size=(NF, NT)).astype(np.float32) + 4.0 for v in t.versions} for t in tasks]

    monkeypatch.setattr(ser.features.engine, "extract_many", extract_many)
    frame = _split().query("speaker != ''").reset_index(drop=True)
    pred = _speaker_norm_predictor()
    robustness_report(pred, frame)
    fed = [X for X in pred.model.seen if len(X) == len(frame)]
    assert fed
    for X in fed:  # every condition: each speaker's clips together have mean 0 in every row
        for who in ("a", "b", "t"):
            rows = np.flatnonzero(frame["speaker"] == who)
            np.testing.assert_allclose(np.concatenate(list(X[rows]), axis=1).mean(axis=1), 0, atol=1e-4)


def test_a_speaker_norm_training_report_says_its_test_speakers_were_normalised(tmp_path):
    from ser.training.train import _evaluate_test

    model = _speaker_norm_model(tmp_path)
    rng = np.random.default_rng(0)
    test = {"X": [rng.normal(size=(NF, NT)).astype(np.float32) for _ in range(4)], "y": ["angry", "sad"] * 2,
            "path": [f"c{i}.wav" for i in range(4)], "corpus": [""] * 4}
    report = _evaluate_test(test, Config.load(model / "config.json"), model, n_skipped=0)
    assert report["speaker_norm"] is True
    plain = Config.load(SHIPPED / "config.json")
    plain = dataclasses.replace(plain, train=dataclasses.replace(plain.train, encoder_member=False))
    assert "speaker_norm" not in _evaluate_test(test, plain, model, n_skipped=0)
