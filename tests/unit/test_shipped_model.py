"""The shipped model and demo data: what a new user gets on the first launch."""

import json

import pandas as pd
import pytest

from ser import EMOTIONS
from ser.serving.predict import Predictor
from tests.conftest import DEFAULT_MODEL, DEMO


def test_shipped_model_loads_and_predicts_8_emotions_on_a_real_clip():
    predictor = Predictor.load(DEFAULT_MODEL)
    assert predictor.emotions == list(EMOTIONS)
    clip = pd.read_csv(DEMO / "all_labels.csv").query("speaker == 'Actor_18'").path.iloc[0]
    pred = predictor.predict_file(DEMO / clip)
    assert set(pred.probabilities) == set(EMOTIONS)
    assert sum(pred.probabilities.values()) == pytest.approx(1.0, abs=1e-4)


def test_shipped_files_and_size():
    names = {p.name for p in DEFAULT_MODEL.iterdir()}
    assert {"model.keras", "model.h5", "config.json", "history.csv", "split.csv", "report.json",
            "predictions.csv", "README.md", "robustness.json"} <= names
    assert sum(p.stat().st_size for p in DEFAULT_MODEL.iterdir()) < 20 * 2 ** 20


def test_demo_clips_are_the_models_test_speakers():
    split = pd.read_csv(DEFAULT_MODEL / "split.csv")
    demo = pd.read_csv(DEMO / "all_labels.csv")
    test = split[split.split == "test"]
    test_speakers = set(test.corpus + "/" + test.speaker.str.split("/").str[-1])  # namespaced by corpus
    demo_corpus = demo.path.str.endswith(".flac").map({True: "nemo", False: "ravdess"})
    assert set(demo_corpus + "/" + demo.speaker) <= test_speakers
    assert set(demo.emotion) == set(EMOTIONS) and set(demo_corpus) == {"ravdess", "nemo"}
    assert sum(p.stat().st_size for p in DEMO.rglob("*")) < 15 * 2 ** 20
    report = json.loads((DEFAULT_MODEL / "report.json").read_text())
    assert report["n_clips"] == (split.split == "test").sum()


def test_evaluate_cli_on_demo(tmp_path):
    from ser.__main__ import main

    assert main(["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(DEMO / "all_labels.csv"),
                 "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["n_clips"] == 118


def test_shipped_robustness_is_on_the_test_speakers_and_agrees_with_the_report():
    from ser.augment.transforms import CONDITIONS

    rob = json.loads((DEFAULT_MODEL / "robustness.json").read_text())
    report = json.loads((DEFAULT_MODEL / "report.json").read_text())
    assert [r["name"] for r in rob["conditions"]] == list(CONDITIONS)
    assert rob["split"] == "test" and rob["n_clips"] == report["n_clips"]
    assert rob["conditions"][0]["accuracy"] == pytest.approx(report["accuracy"])
    assert "uar" in report and report["emotions_absent"] == []
    assert set(report["per_corpus"]) == {"ravdess", "nemo", "indian_emospeech"}


def test_shipped_model_reproduces_its_own_predictions_on_the_demo_clips(tmp_path):
    """A silent change to decoding, trimming, level, features or the model breaks this."""
    from ser.results.evaluate import evaluate_model

    evaluate_model(DEFAULT_MODEL, DEMO / "all_labels.csv", tmp_path, cache_dir=tmp_path / "cache")
    now = pd.read_csv(tmp_path / "predictions.csv").set_index("path").sort_index()
    shipped = pd.read_csv(DEFAULT_MODEL / "predictions.csv").set_index("path")
    assert len(now) == 118
    shipped = shipped.loc[now.index]  # the demo clips are 118 of the test clips (RAVDESS and nEMO paths differ)
    assert (now["predicted"] == shipped["predicted"]).all()
    assert (now["true"] == shipped["true"]).all()
    pd.testing.assert_frame_equal(now[list(EMOTIONS)], shipped[list(EMOTIONS)], atol=2e-4, rtol=0)


def test_shipped_report_follows_from_its_predictions():
    from ser.results.evaluate import report_from_predictions

    preds = pd.read_csv(DEFAULT_MODEL / "predictions.csv")
    report = json.loads((DEFAULT_MODEL / "report.json").read_text())
    again = report_from_predictions(preds["true"].tolist(), preds["predicted"].tolist(), emotions=list(EMOTIONS))
    assert report["n_clips"] == len(preds) == (pd.read_csv(DEFAULT_MODEL / "split.csv").split == "test").sum()
    for key in ("accuracy", "macro_f1", "uar"):
        assert report[key] == pytest.approx(again[key], abs=1e-9), key
    assert report["confusion"] == again["confusion"]
    assert report["accuracy"] == pytest.approx((preds["true"] == preds["predicted"]).mean())
    run = json.loads((DEFAULT_MODEL / "run.json").read_text())
    assert run["test_macro_f1"] == pytest.approx(report["macro_f1"])
    readme = (DEFAULT_MODEL / "README.md").read_text()
    assert f"{report['macro_f1']:.3f}" in readme and f"{report['accuracy']:.3f}" in readme


def test_the_default_preset_trains_what_is_shipped():
    """``ser train --preset default`` (the Train page's recommended choice) reproduces the shipped recipe."""
    from ser.config import Config, for_preset

    shipped = Config.load(DEFAULT_MODEL / "config.json").to_dict()
    assert shipped == for_preset("default").to_dict()
