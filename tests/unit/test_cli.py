import json

from ser.__main__ import main


def test_evaluate_writes_report(trained_quick_model, small_subset, tmp_path, feature_cache, capsys):
    assert main(["evaluate", "--model", str(trained_quick_model), "--labels", str(small_subset),
                 "--out", str(tmp_path / "ev"), "--cache-dir", str(feature_cache)]) == 0
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert report["n_clips"] == 96 and 0 <= report["accuracy"] <= 1
    assert {"accuracy", "macro_f1", "weighted_f1", "per_class", "confusion", "n_skipped"} <= set(report)
    assert "accuracy" in capsys.readouterr().out


def test_predict_bad_file_exit_2_others_still_predicted(trained_quick_model, real_clip, tmp_path, capsys):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    code = main(["predict", "--model", str(trained_quick_model), "--json", str(real_clip), str(bad), str(real_clip)])
    out, err = capsys.readouterr()
    assert code == 2
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and all(len(x["probabilities"]) == 8 for x in lines)
    assert err.count("\n") == 1 and "notes.wav" in err and "not a readable audio file" in err


def test_validate_cli(ravdess, capsys):
    assert main(["validate", str(ravdess / "all_labels.csv")]) == 0
    assert "1200 rows, 0 problems, 1200 usable clips" in capsys.readouterr().out


def test_cli_bad_labels_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.csv")]) == 2
    assert "labels file not found" in capsys.readouterr().err


def test_cv_bad_setting_exit_2(small_subset, capsys):
    assert main(["cv", "--labels", str(small_subset), "--set", "frame_dropout"]) == 2
    assert "--set 'frame_dropout': write it as FIELD=VALUE" in capsys.readouterr().err


def test_cv_cli_prints_pooled_scores(small_subset, feature_cache, tmp_path, capsys):
    code = main(["cv", "--labels", str(small_subset), "--preset", "quick", "--folds", "2", "--epochs", "1",
                 "--set", "ensemble_size=1", "--cache-dir", str(feature_cache), "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "2-fold speaker cross-validation over 4 speakers" in out and "macro F1" in out
    assert err.count("fold 0 (speakers") == 1 and "fold 1 epoch 1 val_loss" in err
    assert (tmp_path / "cv.json").is_file() and (tmp_path / "history_fold1.csv").is_file()
