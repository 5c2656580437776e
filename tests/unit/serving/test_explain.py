"""Occlusion over time with the shipped model, on a real clip and on noise."""

import numpy as np
import pytest

from ser.audio.reader import read_audio
from ser.serving.explain import explain
from ser.serving.predict import Predictor
from tests.conftest import DEFAULT_MODEL


@pytest.fixture(scope="module")
def shipped():
    return Predictor.load(DEFAULT_MODEL)


def test_silent_stretches_do_not_matter_and_the_answer_rests_on_speech(shipped, real_clip):
    y, sr = read_audio(real_clip).y, 16_000
    e = explain(shipped, y, sr=sr, segment_s=0.25)
    assert e.emotion == shipped.predict(y, sr=sr).emotion
    assert len(e.importance) == int(np.ceil(len(y) / (0.25 * sr))) and e.ends_s[-1] == pytest.approx(len(y) / sr)
    peak = np.abs(y).max()
    quiet = [i for i, (a, b) in enumerate(zip(e.starts_s, e.ends_s))
             if np.abs(y[int(a * sr):int(b * sr)]).max() < 0.01 * peak]
    assert quiet, "a RAVDESS clip starts with silence"
    assert np.abs(e.importance[quiet]).max() < 0.02  # silencing silence changes nothing
    start, end = e.strongest()
    assert np.abs(y[int(start * sr):int(end * sr)]).max() > 0.1 * peak  # the strongest stretch holds voice
    assert e.sentence().startswith(f"“{e.emotion}” rests most on {start:.2f}–{end:.2f} s")


def test_noise_has_nothing_to_explain(shipped):
    noise = np.random.default_rng(0).normal(scale=0.1, size=32000).astype(np.float32)
    e = explain(shipped, noise, sr=16000)
    assert e.emotion is None and e.strongest() is None and not e.importance.any()
    assert e.sentence() == "No speech, so there is nothing to explain."


# --- bounded explanations of long recordings (issue 22, item 1) ---

LIMIT = 800  # model windows: far more than a bounded explanation of a minute needs, far less than re-predicting it


@pytest.fixture(scope="module")
def minute():
    """60 s at 16 kHz: demo clips at one level with 0.3 s pauses and, from 30 s, 6 s of a faint hiss (-80 dBFS,
    seeded: long enough to hold a whole stretch of the encoder member's ~3 s ones); and where that hiss is."""
    from ser.audio.reader import normalize_level, read_audio
    from tests.conftest import DEMO

    clips = [normalize_level(read_audio(p).y) for p in sorted(DEMO.glob("*/*.wav"))]
    sr, parts, n, i = 16000, [], 0, 0
    pause = np.zeros(int(0.3 * sr), np.float32)
    while n < 60 * sr:
        parts += [clips[i % len(clips)], pause]
        n += len(parts[-2]) + len(pause)
        i += 1
    y = np.concatenate(parts)[:60 * sr].copy()
    y[30 * sr:36 * sr] = np.random.default_rng(0).normal(scale=1e-4, size=6 * sr).astype(np.float32)
    return y, sr, (30.0, 36.0)


@pytest.fixture(scope="module")
def counted(shipped):
    """``shipped`` whose model counts the windows it is given, and refuses more than ``LIMIT`` of them."""
    seen = {"windows": 0}
    real = shipped.predict_features

    def predict_features(X, **kwargs):
        seen["windows"] += len(X)
        assert seen["windows"] <= LIMIT, f"the model was asked for more than {LIMIT} windows"
        return real(X, **kwargs)

    shipped.predict_features = predict_features
    yield shipped, seen
    del shipped.predict_features


@pytest.fixture(autouse=True)
def _count_each_test_afresh(request):
    if "counted" in request.fixturenames:
        request.getfixturevalue("counted")[1]["windows"] = 0


@pytest.fixture(scope="module")
def explained(counted, minute):
    """The minute explained with the defaults, and how many windows the model was given for it."""
    predictor, seen = counted
    y, sr, _ = minute
    seen["windows"] = 0
    return explain(predictor, y, sr=sr), seen["windows"]


def test_explaining_a_minute_asks_the_model_for_a_bounded_number_of_windows(counted, minute, explained):
    predictor, seen = counted
    y, sr, _ = minute
    e, windows = explained
    assert e.complete and windows <= e.n_windows <= LIMIT
    seen["windows"] = 0
    cap = e.n_windows - 10
    capped = explain(predictor, y, sr=sr, max_windows=cap)  # a tighter cap: coarser stretches, still under it
    assert seen["windows"] <= capped.n_windows <= cap
    assert len(capped.importance) < len(e.importance) and capped.coarsened


def test_long_audio_gets_coarser_stretches_that_still_cover_it(counted, minute, explained):
    from ser.serving.explain import MAX_SEGMENTS

    predictor, _ = counted
    y, sr, _ = minute
    e, _ = explained  # segment_s=0.25 asked, at most MAX_SEGMENTS (48) stretches
    assert MAX_SEGMENTS == 48 and len(e.importance) <= 48 and e.segment_s >= 60 / 48 and e.coarsened
    assert e.starts_s[0] == 0 and e.ends_s[-1] == pytest.approx(60.0)
    assert np.allclose(e.starts_s[1:], e.ends_s[:-1])  # contiguous, no gaps
    assert f"{e.segment_s:.2f} s" in e.sentence()  # the page's sentence says the stretches were made longer
    short = explain(predictor, y[:4 * sr], sr=sr)
    assert not short.coarsened and short.segment_s == 0.25 and "longer" not in short.sentence()


def test_should_stop_cuts_it_short_with_a_flagged_partial_result(counted, minute):
    predictor, _ = counted
    y, sr, _ = minute
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 5

    e = explain(predictor, y, sr=sr, should_stop=should_stop)
    assert not e.complete and e.evaluated.sum() == 5 and not e.importance[~e.evaluated].any()
    assert "cut short" in e.sentence()
    late = explain(predictor, y, sr=sr, deadline_s=0.0)  # a spent deadline: nothing but the prediction itself
    assert not late.complete and late.evaluated.sum() == 0 and late.probability == pytest.approx(e.probability)


def test_a_long_explanation_keeps_its_meaning(counted, minute, explained):
    predictor, _ = counted
    y, sr, (quiet_a, quiet_b) = minute
    e, _ = explained
    pred = predictor.predict(y, sr=sr)
    assert e.emotion == pred.emotion and e.probability == pytest.approx(pred.probabilities[pred.emotion], abs=1e-6)
    inside = (e.starts_s >= quiet_a) & (e.ends_s <= quiet_b)
    assert inside.any() and np.abs(e.importance[inside]).max() < 0.02  # silencing the hiss changes nothing
    start, end = e.strongest()
    assert np.abs(y[int(start * sr):int(end * sr)]).max() > 0.1 * np.abs(y).max()  # the strongest stretch is voice


def test_explaining_what_was_just_predicted_scores_its_windows_once(counted, minute):
    """The Predict page predicts an upload, then explains it: the windows of the whole recording are given to
    the model once, not once for the answer and again for the explanation."""
    predictor, seen = counted
    y, sr, _ = minute
    predictor.predict(y[: sr * 5], sr=sr)  # something else was predicted last
    seen["windows"] = 0
    explain(predictor, y, sr=sr)
    fresh = seen["windows"]
    predictor.predict(y, sr=sr)
    seen["windows"] = 0
    e = explain(predictor, y, sr=sr)
    assert fresh - seen["windows"] >= 20, (fresh, seen["windows"])  # a minute has ~75 windows of speech
    assert e.complete


def test_a_model_with_an_encoder_member_hears_fewer_windows_again(counted, minute, explained):
    """The voice encoder costs about three times the networks per window (issue 22's bound on an explanation's
    time): a model with it re-scores at most MAX_RESCORED windows' worth of the networks alone, in longer
    stretches, where the networks alone keep the finer ones."""
    from ser.serving.explain import MAX_RESCORED

    predictor, _ = counted
    y, sr, _ = minute
    e, _ = explained
    own = explain(predictor, y, sr=sr, deadline_s=0.0).n_windows  # the prediction's own windows alone
    assert predictor.encoder_head is not None and predictor.window_cost == 4.0
    networks = Predictor(predictor.model, predictor.config, predictor.model_dir, runtime=predictor.runtime)
    assert networks.window_cost == 1.0
    alone = explain(networks, y, sr=sr)
    assert len(e.importance) < len(alone.importance) and e.segment_s > alone.segment_s
    assert e.complete and e.coarsened and "longer" in e.sentence()
    assert 0 < predictor.window_cost * (e.n_windows - own) <= MAX_RESCORED
    assert predictor.window_cost * (alone.n_windows - own) > MAX_RESCORED  # the finer plan: too much for the member
