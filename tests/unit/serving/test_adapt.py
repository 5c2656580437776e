"""The personal model (ser.serving.adapt): real demo clips of one test speaker, the shipped model as base."""

from __future__ import annotations

import hashlib
import math
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ser.access import AccessError, Visitor
from ser.errors import AudioError, SerError
from ser.model_folder import ModelFolder
from ser.serving.adapt import MIN_CLIPS_PER_EMOTION_ADAPT, AdaptError, adapt
from ser.serving.predict import Predictor
from tests.conftest import DEFAULT_MODEL, DEMO

SPEAKER = "Actor_06"  # a RAVDESS test speaker: never heard by the shipped model's weights


@pytest.fixture(autouse=True)
def _own_cache(feature_cache, monkeypatch):
    monkeypatch.setenv("SER_CACHE_DIR", str(feature_cache))


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _labels(tmp: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A labels CSV in ``tmp`` naming demo clips by absolute path."""
    csv = tmp / "all_labels.csv"
    pd.DataFrame(rows, columns=["path", "emotion", "speaker"]).to_csv(csv, index=False)
    return csv


def _demo(speaker: str = SPEAKER, per_emotion: int = 2, emotions: tuple[str, ...] | None = None):
    frame = pd.read_csv(DEMO / "all_labels.csv")
    frame = frame[frame.speaker == speaker]
    if emotions:
        frame = frame[frame.emotion.isin(emotions)]
    frame = frame.groupby("emotion", sort=False).head(per_emotion)
    return [(str(DEMO / p), e, s) for p, e, s in zip(frame.path, frame.emotion, frame.speaker)]


@pytest.fixture(scope="module")
def personal(tmp_path_factory, feature_cache):
    tmp = tmp_path_factory.mktemp("adapt")
    before = _digests(DEFAULT_MODEL)
    calls = []
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse fixture does not apply yet
        mp.setenv("SER_CACHE_DIR", str(feature_cache))
        result = adapt(DEFAULT_MODEL, _labels(tmp, _demo()), out_dir=tmp / "models" / "me",
                       progress=lambda f, m: calls.append((f, m)))
    return result, before, calls


def test_the_personal_model_loads_with_onnx_and_predicts_among_its_emotions(personal):
    result, _, calls = personal
    folder = ModelFolder(result.out_dir)
    assert folder.has_model() and folder.is_personal() and ModelFolder(result.out_dir).is_personal()
    assert not ModelFolder(DEFAULT_MODEL).is_personal()
    assert result.speaker == SPEAKER and result.n_clips == 16 and len(result.emotions) == 8
    p = Predictor.load(result.out_dir)
    assert p.runtime == "onnx" and tuple(p.emotions) == result.emotions
    out = p.predict_file(DEMO / "Actor_06" / "03-01-05-02-02-01-06.wav")
    assert out.emotion in result.emotions and math.isclose(sum(out.probabilities.values()), 1.0, abs_tol=1e-5)
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] == 1.0
    meta = folder.adapted()
    assert meta["base_fingerprint"] == ModelFolder(DEFAULT_MODEL).fingerprint() and meta["speaker"] == SPEAKER
    card = (result.out_dir / "README.md").read_text()
    assert "models/default" in card and meta["base_fingerprint"] in card and "leave-one-clip-out" in card
    report = folder.report()
    assert report["kind"] == "personal" and "leave-one-clip-out" in report["estimate"] and "macro_f1" in report["base"]
    with pytest.raises(SerError, match="ONNX Runtime only"):
        Predictor.load(result.out_dir, runtime="keras")


def test_the_base_folder_is_byte_identical_after_adapting(personal):
    _, before, _ = personal
    assert _digests(DEFAULT_MODEL) == before


def test_the_adapted_model_fits_its_enrolment_clips_better_than_the_base(personal):
    result, _, _ = personal
    clips = pd.read_csv(result.out_dir / "enrolment.csv")
    base, mine = Predictor.load(DEFAULT_MODEL), Predictor.load(result.out_dir)
    paths = [result.out_dir / p for p in clips.path]  # relative to the folder, as in any labels CSV
    right_base = sum(base.predict_file(p, emotions=result.emotions).emotion == e for p, e in zip(paths, clips.emotion))
    right_mine = sum(mine.predict_file(p).emotion == e for p, e in zip(paths, clips.emotion))
    assert right_mine > right_base


def test_an_infinite_penalty_gives_the_base_model_restricted_to_the_emotions(tmp_path):
    """The head at zero is the base's networks restricted to the enrolled emotions; the base's encoder member is
    kept, restricted to them too, at the base's weight (chosen on validation speakers: benchmarks/adaptation.py)."""
    from ser.audio.reader import finish_audio, read_audio
    from ser.features.encoder import encoder_rows

    chosen = ("happy", "sad", "angry")
    out = tmp_path / "models" / "same"
    adapt(DEFAULT_MODEL, _labels(tmp_path, _demo(emotions=chosen)), out_dir=out, l2=math.inf)
    base, mine = Predictor.load(DEFAULT_MODEL), Predictor.load(out)
    assert tuple(mine.emotions) == chosen and mine.config.train.encoder_member
    assert mine.encoder_head.emotions == chosen and ModelFolder(out).encoder_head_file.is_file()
    w = base.config.train.encoder_weight
    member = base.encoder_head
    base.encoder_head = None  # the networks alone
    keep = [base.emotions.index(e) for e in chosen]
    for clip in ("Actor_06/03-01-05-02-02-01-06.wav", "Actor_12/03-01-03-01-01-02-12.wav"):
        y = finish_audio(read_audio(DEMO / clip).y, config=base.config.audio)
        assert len(base.window_starts(len(y))) == 1  # one window: the restriction of its mean is of the window
        nets = base.predict_file(DEMO / clip, emotions=chosen).probabilities
        voice = member.predict_proba(encoder_rows([y], sr=16_000))[0, keep]
        want = (1 - w) * np.array([nets[e] for e in chosen]) + w * voice / voice.sum()
        got = mine.predict_file(DEMO / clip).probabilities
        assert tuple(got) == chosen
        np.testing.assert_allclose([got[e] for e in chosen], want, atol=1e-5)


def test_a_finite_penalty_changes_the_answer(personal, tmp_path):
    result, _, _ = personal
    base, mine = Predictor.load(DEFAULT_MODEL), Predictor.load(result.out_dir)
    clip = DEMO / "Actor_06" / "03-01-05-02-02-01-06.wav"
    want, got = base.predict_file(clip).probabilities, mine.predict_file(clip).probabilities
    assert max(abs(got[e] - want[e]) for e in got) > 1e-3


def _silent_wav(path: Path) -> Path:
    y = (np.random.default_rng(0).standard_normal(32000) * 1e-4 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(y.tobytes())
    return path


@pytest.mark.parametrize("case, error, match", [
    ("too_few", AdaptError, f"1 clip of angry by {SPEAKER}; each emotion needs at least {MIN_CLIPS_PER_EMOTION_ADAPT}"),
    ("one_emotion", AdaptError, "clips of one emotion only"),
    ("two_speakers", AdaptError, "holds clips of 2 speakers .*pick one"),
    ("no_speech", AudioError, "quiet.wav"),
    ("unknown_emotion", AdaptError, "emotion 'bored', which this model does not know"),
    ("unknown_choice", SerError, "bogus"),
    ("no_base", AdaptError, "no such model folder"),
    ("out_is_base", AdaptError, "is the base model"),
    ("out_not_personal", AdaptError, "exists and is not a personal model"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, case, error, match):
    rows, kwargs, base, out = _demo(), {}, DEFAULT_MODEL, tmp_path / "models" / "me"
    if case == "too_few":
        rows = [r for r in rows if r[1] != "angry"] + [r for r in rows if r[1] == "angry"][:1]
    elif case == "one_emotion":
        rows = [r for r in rows if r[1] == "sad"]
    elif case == "two_speakers":
        rows = rows + _demo("Actor_12")
    elif case == "no_speech":
        rows = rows + [(str(_silent_wav(tmp_path / "quiet.wav")), "sad", SPEAKER)]
    elif case == "unknown_emotion":
        rows = rows + [(rows[0][0], "bored", SPEAKER)]
    elif case == "unknown_choice":
        kwargs = {"emotions": "angry,bogus"}
    elif case == "no_base":
        base = tmp_path / "nothing"
    elif case == "out_is_base":
        out = DEFAULT_MODEL
    elif case == "out_not_personal":
        out.mkdir(parents=True)
        (out / "notes.txt").write_text("mine")
    before = sorted(p.name for p in out.parent.iterdir()) if out.parent.exists() else None
    with pytest.raises(error, match=match) as info:
        adapt(base, _labels(tmp_path, rows), out_dir=out, **kwargs)
    assert "\n" not in str(info.value)
    after = sorted(p.name for p in out.parent.iterdir()) if out.parent.exists() else None
    assert after == before
    if case == "out_not_personal":
        assert (out / "notes.txt").read_text() == "mine" and not ModelFolder(out).is_personal()


def test_speaker_picks_one_voice_from_a_csv_of_several(tmp_path):
    out = tmp_path / "models" / "twelve"
    r = adapt(DEFAULT_MODEL, _labels(tmp_path, _demo() + _demo("Actor_12", emotions=("happy", "sad"))),
              out_dir=out, speaker="Actor_12")
    assert r.speaker == "Actor_12" and r.emotions == ("happy", "sad") and r.n_clips == 4
    assert tuple(Predictor.load(out).emotions) == ("happy", "sad")


def test_a_failed_adapt_leaves_no_folder(tmp_path, monkeypatch):
    import ser.serving.adapt as module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_personal_onnx", broken)
    models = tmp_path / "models"
    with pytest.raises(RuntimeError, match="disk full"):
        adapt(DEFAULT_MODEL, _labels(tmp_path, _demo(emotions=("happy", "sad"))), out_dir=models / "me")
    assert not (models / "me").exists() and not [p for p in models.iterdir() if p.name.startswith(".adapting")]


def test_a_page_replaces_only_its_own_personal_model(tmp_path):
    labels = _labels(tmp_path, _demo(emotions=("happy", "sad")))
    out, me, other = tmp_path / "models" / "mine", Visitor("me"), Visitor("someone else")
    adapt(DEFAULT_MODEL, labels, out_dir=out, by=me)
    first = (out / "model.onnx").stat().st_ino
    adapt(DEFAULT_MODEL, labels, out_dir=out, by=me)  # re-adapting one's own model replaces it
    assert ModelFolder(out).is_personal() and (out / "model.onnx").stat().st_ino != first
    with pytest.raises(AccessError, match="another visitor's model"):
        adapt(DEFAULT_MODEL, labels, out_dir=out, by=other)
    with pytest.raises(AccessError, match="reserved"):
        adapt(DEFAULT_MODEL, labels, out_dir=tmp_path / "models" / "default", by=me)
    cli = tmp_path / "models" / "cli"
    adapt(DEFAULT_MODEL, labels, out_dir=cli)  # the command line's: protected from every page
    with pytest.raises(AccessError, match="protected model"):
        adapt(DEFAULT_MODEL, labels, out_dir=cli, by=me)


def test_a_clip_longer_than_the_window_gives_a_row_per_window_as_prediction_scores_it(tmp_path):
    import soundfile as sf

    rows = _demo(emotions=("happy", "sad"))
    ys = [sf.read(p, dtype="float32")[0] for p, e, _ in rows if e == "sad"]
    long = tmp_path / "long_sad.wav"
    sf.write(long, np.concatenate(ys + ys), 16000)  # about four times the model's 3 s window
    rows = [r for r in rows if r[1] != "sad"] + [(str(long), "sad", SPEAKER), rows[[r[1] for r in rows].index("sad")]]
    out = tmp_path / "models" / "long"
    r = adapt(DEFAULT_MODEL, _labels(tmp_path, rows), out_dir=out)
    assert r.n_clips == 4 and ModelFolder(out).adapted()["n_windows"] >= 3 + 3  # the long clip: 3 windows or more


def test_the_measurement_scores_an_infinite_penalty_as_the_base_and_a_fitted_head_apart():
    from benchmarks.adaptation import embed_speakers, score_draw

    frame = pd.read_csv(DEMO / "all_labels.csv").query("speaker == @SPEAKER")
    s = {"corpus": "ravdess", "speaker": SPEAKER, "paths": [str(DEMO / p) for p in frame.path],
         "emotions": list(frame.emotion)}
    embed_speakers(DEFAULT_MODEL, [s], ("original",))
    known = list(ModelFolder(DEFAULT_MODEL).config().emotions)
    same = score_draw(s, 2, np.random.default_rng(0), known=known, l2=math.inf, l2_bias=0.01, augmented=False)
    assert same["adapted"] == same["base"] and same["n_scored"] == 8 and same["n_emotions"] == 8
    fitted = score_draw(s, 2, np.random.default_rng(0), known=known, l2=1e-3, l2_bias=0.01, augmented=False)
    assert fitted["base"] == same["base"] and fitted["adapted"] != same["adapted"]


def test_bench_adapt_time_runs_the_real_adapt_in_a_cold_process():
    from benchmarks.adaptation import bench_adapt_time

    r = bench_adapt_time()
    assert r["n_clips"] == 16 and 0 < r["adapt_s"] <= r["adapt_process_s"] < 60


def test_the_enrolment_list_is_a_labels_csv_that_adapts_again(personal, tmp_path):
    result, _, _ = personal
    again = adapt(DEFAULT_MODEL, result.out_dir / "enrolment.csv", out_dir=tmp_path / "models" / "again")
    assert (again.n_clips, again.emotions, again.speaker) == (result.n_clips, result.emotions, result.speaker)


def test_the_personal_onnx_is_the_head_on_activations_scaled_by_the_training_spread(personal):
    from ser.serving.adapt import L2, L2_BIAS, SCALING, VERSIONS_USED, Embedder, clip_rows, restricted_log, standardiser
    from ser.training.logistic import fit_head, head_probs

    result, _, _ = personal
    assert ModelFolder(result.out_dir).adapted()["scaling"] == SCALING
    config = ModelFolder(DEFAULT_MODEL).config()
    clips = pd.read_csv(result.out_dir / "enrolment.csv")
    paths = [result.out_dir / p for p in clips.path]
    embedder = Embedder(DEFAULT_MODEL)
    assert embedder.train is not None  # the shipped model has its model.keras: the training spread is known
    rows = [clip_rows(p, config=config, versions=VERSIONS_USED)[0] for p in paths]
    Z, P = embedder(np.concatenate(rows))
    keep = [config.emotions.index(e) for e in result.emotions]
    y = np.repeat([result.emotions.index(e) for e in clips.emotion], [len(r) for r in rows])
    mu, s = standardiser(Z, train=embedder.train, scaling=SCALING)
    assert s.shape == (Z.shape[1],) and np.ptp(s[np.isfinite(s)]) > 0  # one spread per activation
    W, b = fit_head((Z - mu) / s, restricted_log(P, keep), y, l2=L2, l2_bias=L2_BIAS)
    want = head_probs((Z[:1] - mu) / s, restricted_log(P[:1], keep), W, b)[0]
    mine = Predictor.load(result.out_dir)
    mine.encoder_head = None  # the personal export alone (the base's encoder member is averaged in after it)
    got = mine.predict_file(paths[0]).probabilities
    np.testing.assert_allclose([got[e] for e in result.emotions], want, atol=2e-3)


def test_the_measurement_scales_as_adapt_does_unless_told_otherwise():
    from benchmarks.adaptation import embed_speakers, score_draw
    from ser.serving.adapt import L2, L2_BIAS, SCALING

    frame = pd.read_csv(DEMO / "all_labels.csv").query("speaker == @SPEAKER")
    s = {"corpus": "ravdess", "speaker": SPEAKER, "paths": [str(DEMO / p) for p in frame.path],
         "emotions": list(frame.emotion)}
    train = embed_speakers(DEFAULT_MODEL, [s], ("original",))
    known = list(ModelFolder(DEFAULT_MODEL).config().emotions)
    draws = [{scaling: score_draw(s, 1, np.random.default_rng(seed), known=known, l2=L2, l2_bias=L2_BIAS,
                                  augmented=False, train=train, **({} if scaling is None else {"scaling": scaling}))
              for scaling in (None, SCALING, "enrolment", "train")}
             for seed in (3, 4, 5)]  # one draw's answers can agree by chance (argmax over 16 clips)
    assert all(draw[None] == draw[SCALING] for draw in draws)
    assert SCALING == "enrolment" or any(draw[SCALING]["adapted"] != draw[o]["adapted"]
                                         for draw in draws for o in ("enrolment", "train"))


def test_a_speaker_a_spreadsheet_or_markdown_would_run_is_written_as_text(tmp_path):
    from ser.datasets.labels import read_labels

    name = '=HYPERLINK("http://x")![x](http://x/p.png)'
    rows = [(p, e, name) for p, e, _ in _demo(emotions=("happy", "sad"))]
    r = adapt(DEFAULT_MODEL, _labels(tmp_path, rows), out_dir=tmp_path / "models" / "formula")
    raw = pd.read_csv(r.out_dir / "enrolment.csv", dtype=str)
    assert not raw.map(lambda cell: cell.startswith("=")).any().any()
    assert set(read_labels(r.out_dir / "enrolment.csv")["speaker"]) == {name}
    card = (r.out_dir / "README.md").read_text()  # the model card shows the name, never an image or a link
    assert "![x](" not in card and r"\!\[x\]\(http\:\/\/x\/p\.png\)" in card
