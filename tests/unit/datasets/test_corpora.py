"""Several corpora as one dataset: namespaced speakers, a split within each corpus, a loss over each
corpus's own emotions, scores per corpus, and leaving one corpus out."""

import json

import numpy as np
import pandas as pd
import pytest

from ser.errors import LabelsError


def test_several_corpora_load_with_their_corpus_and_namespaced_speakers(two_corpora):
    from ser.datasets.corpora import emotion_sets, read_corpora

    ravdess, nemo = two_corpora
    _, good, _ = read_corpora([ravdess, nemo])
    assert set(good["corpus"]) == {"ravdess", "nemo"}
    assert good.loc[good.corpus == "nemo", "speaker"].str.startswith("nemo/").all()
    assert good["speaker"].nunique() == 8, "nEMO's Actor_01 is not RAVDESS's Actor_01"
    sets = emotion_sets(good)
    assert "calm" in sets["ravdess"] and "calm" not in sets["nemo"] and len(sets["nemo"]) == 6
    _, one, _ = read_corpora(ravdess)
    assert one["speaker"].str.startswith("Actor_").all(), "one corpus keeps its speakers' names"


def test_a_clip_in_two_label_files_or_a_file_given_twice_is_one_line(two_corpora, tmp_path):
    from ser.datasets.corpora import read_corpora

    ravdess, nemo = two_corpora
    with pytest.raises(LabelsError, match="given twice"):
        read_corpora([ravdess, ravdess])
    copy = ravdess.parent / "again.csv"
    pd.read_csv(ravdess).head(3).to_csv(copy, index=False)
    with pytest.raises(LabelsError, match=r"lists 3 clip\(s\) that .*all_labels.csv lists too"):
        read_corpora([ravdess, copy])


def test_the_split_holds_every_corpuss_test_speakers_out(two_corpora):
    from ser.datasets.corpora import read_corpora, split_corpora

    _, good, _ = read_corpora(list(two_corpora))
    split = split_corpora(good, seed=0)
    for corpus, rows in split.groupby("corpus"):
        parts = {s: set(r["speaker"]) for s, r in rows.groupby("split")}
        assert set(parts) == {"train", "val", "test"}, corpus
        assert not (parts["test"] & (parts["train"] | parts["val"])), "a test voice is heard in training"
        assert not (parts["val"] & parts["train"])


def test_a_corpus_without_enough_speakers_of_an_emotion_is_refused_naming_it(two_corpora, tmp_path):
    from ser.datasets.corpora import read_corpora, split_corpora

    ravdess, nemo = two_corpora
    few = nemo.parent / "few.csv"  # beside nEMO's clips: sad spoken by 2 of its speakers only
    labels = pd.read_csv(nemo)
    labels[~((labels.emotion == "sad") & ~labels.speaker.isin(["Actor_01", "Actor_02"]))].to_csv(few, index=False)
    _, good, _ = read_corpora([ravdess, few])
    with pytest.raises(LabelsError, match=r"few.csv: cannot split by speaker: .*sad"):
        split_corpora(good)


def test_a_corpuss_missing_emotions_do_not_count_against_it_in_the_loss():
    from ser.training import backend
    from ser.training.model import masked_crossentropy

    keras = backend.keras()
    loss = masked_crossentropy(4, label_smoothing=0.1)
    onehot = np.array([[1, 0, 0, 0]], np.float32)
    allowed = np.array([[1, 1, 1, 0]], np.float32)  # the corpus has no emotion 3
    a = np.array([[0.5, 0.2, 0.1, 0.2]], np.float32)
    b = np.array([[0.625, 0.25, 0.125, 0.0]], np.float32)  # the same answer among the corpus's emotions
    y = np.concatenate([onehot, allowed], axis=1)
    la, lb = (float(keras.ops.convert_to_numpy(loss(y, p))[0]) for p in (a, b))
    assert la == pytest.approx(lb, rel=1e-5), "probability on an emotion the corpus lacks is neither rewarded nor punished"
    full = np.concatenate([onehot, np.ones((1, 4), np.float32)], axis=1)
    usual = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(onehot, a)
    assert float(keras.ops.convert_to_numpy(loss(full, a))[0]) == pytest.approx(float(usual), rel=1e-5)


def test_corpora_and_emotions_are_balanced_by_the_weights():
    from ser.training.fit import balanced_weights

    corpora = ["a"] * 6 + ["b"] * 2
    y = np.array([0, 0, 0, 0, 1, 1, 0, 1])
    w = balanced_weights(corpora, y)
    assert w.mean() == pytest.approx(1.0)
    totals = {(c, e): w[[i for i in range(8) if corpora[i] == c and y[i] == e]].sum() for c, e in
              [("a", 0), ("a", 1), ("b", 0), ("b", 1)]}
    assert len({round(v, 6) for v in totals.values()}) == 1, totals


def test_a_two_corpus_training_reports_each_corpus(two_corpora, feature_cache, tmp_path):
    from ser.config import for_preset
    from ser.training.train import train

    out = tmp_path / "models" / "both"
    result = train(list(two_corpora), out, for_preset("quick", epochs=2, augment=False), cache_dir=feature_cache)
    report = json.loads((out / "report.json").read_text())
    assert set(report["per_corpus"]) == {"ravdess", "nemo"}
    nemo = report["per_corpus"]["nemo"]
    assert nemo["restricted"]["emotions"] == ["neutral", "happy", "sad", "angry", "fearful", "surprised"]
    assert 0 <= nemo["restricted"]["uar"] <= 1 and nemo["n_clips"] > 0
    assert report["restricted"]["uar"] is not None
    run = json.loads((out / "run.json").read_text())
    assert run["corpora"]["nemo"]["emotions"] == nemo["restricted"]["emotions"]
    split = pd.read_csv(out / "split.csv")
    assert set(split.loc[split.split == "test", "corpus"]) == {"ravdess", "nemo"}
    assert result.report["per_corpus"] == report["per_corpus"]
    from ser.results.report import build_report

    html = build_report(out)
    assert "<h3 id='per-corpus'>Per corpus</h3>" in html and "<td>nemo</td>" in html


def test_leaving_one_corpus_out_scores_each_corpus_on_the_emotions_it_shares(two_corpora, feature_cache, tmp_path):
    from ser.__main__ import main

    out = tmp_path / "loco"
    assert main(["cv", "--by", "corpus", "--labels", str(two_corpora[0]), "--labels", str(two_corpora[1]),
                 "--preset", "quick", "--epochs", "1", "--set", "augment=false", "--cache-dir", str(feature_cache),
                 "--out", str(out)]) == 0
    r = json.loads((out / "cv.json").read_text())
    assert set(r["corpora"]) == {"ravdess", "nemo"}
    assert r["corpora"]["ravdess"]["emotions"] == ["neutral", "happy", "sad", "angry", "fearful", "surprised"], \
        "RAVDESS held out is scored on the emotions nEMO taught"
    assert r["corpora"]["nemo"]["trained_on"] == ["ravdess"]
