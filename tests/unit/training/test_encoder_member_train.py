"""Training with the encoder member, and adding one to a trained model (``ser encoder-member``)."""

import json
import shutil

import numpy as np
import pandas as pd

from ser.__main__ import main
from ser.config import Config
from ser.features.clips import ClipTask, encoder_key
from ser.features.engine import extract_many
from ser.serving.predict import Predictor


def _test_answers(model_dir, labels_csv, cache):
    """The model's probabilities for its test clips, from features and encoder rows extracted here."""
    split = pd.read_csv(model_dir / "split.csv")
    test = split[split["split"] == "test"].reset_index(drop=True)
    paths = [str(labels_csv.parent / p) for p in test["path"]]
    out = extract_many([ClipTask(p, encoder=("original",)) for p in paths], config=Config.load(model_dir / "config.json"),
                       cache_dir=cache)
    X = np.stack([o["original"] for o in out])
    R = np.stack([o[encoder_key("original")] for o in out])
    return test, X, R


def test_training_with_the_member_fits_saves_and_scores_with_it(small_subset, feature_cache, tmp_path):
    out = tmp_path / "member"
    assert main(["train", "--labels", str(small_subset), "--out", str(out), "--preset", "quick", "--epochs", "2",
                 "--cache-dir", str(feature_cache), "--set", "encoder_member=true"]) == 0
    assert Config.load(out / "config.json").train.encoder_member
    predictor = Predictor.load(out)
    assert predictor.encoder_head is not None
    _, X, R = _test_answers(out, small_subset, feature_cache)
    probs = predictor.predict_features(X, rows=R)
    w = predictor.config.train.encoder_weight
    np.testing.assert_allclose(probs, (1 - w) * predictor.predict_networks(X) + w * predictor.encoder_head.predict_proba(R),
                               atol=1e-6)
    written = pd.read_csv(out / "predictions.csv")
    np.testing.assert_allclose(written[list(predictor.emotions)].to_numpy(), probs, atol=1e-4)  # the report's answers


def test_encoder_member_command_adds_it_and_scores_the_model_again(trained_quick_model, small_subset, feature_cache,
                                                                   tmp_path, capsys):
    model = tmp_path / "quick"
    shutil.copytree(trained_quick_model, model)
    before = json.loads((model / "report.json").read_text())
    assert not Config.load(model / "config.json").train.encoder_member
    assert main(["encoder-member", "--model", str(model), "--cache-dir", str(feature_cache)]) == 0
    printed = capsys.readouterr().out
    assert "encoder_head.npz: the encoder member" in printed and "test speakers: accuracy" in printed
    predictor = Predictor.load(model)
    assert predictor.config.train.encoder_member and predictor.encoder_head is not None
    test, X, R = _test_answers(model, small_subset, feature_cache)
    written = pd.read_csv(model / "predictions.csv")
    np.testing.assert_allclose(written[list(predictor.emotions)].to_numpy(), predictor.predict_features(X, rows=R),
                               atol=1e-4)
    report = json.loads((model / "report.json").read_text())
    robustness = json.loads((model / "robustness.json").read_text())
    run = json.loads((model / "run.json").read_text())
    assert report["n_clips"] == before["n_clips"] == robustness["n_clips"] == len(test)
    assert run["test_macro_f1"] == report["macro_f1"] and run["encoder_member"]["command"].startswith(
        "python -m ser encoder-member --model")


def test_encoder_member_command_refuses_a_folder_without_a_model(tmp_path, capsys):
    assert main(["encoder-member", "--model", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "is not a model folder made by ser train" in err and "Traceback" not in err
