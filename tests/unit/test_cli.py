import json

import pandas as pd

from ser.__main__ import main


def test_evaluate_writes_report(trained_quick_model, small_subset, tmp_path, feature_cache, capsys):
    assert main(["evaluate", "--model", str(trained_quick_model), "--labels", str(small_subset),
                 "--out", str(tmp_path / "ev"), "--cache-dir", str(feature_cache)]) == 0
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    preds = pd.read_csv(tmp_path / "ev" / "predictions.csv")
    assert report["n_clips"] == len(preds) == 96
    assert report["accuracy"] == (preds["true"] == preds["predicted"]).mean()
    assert sum(map(sum, report["confusion"]["matrix"])) == 96
    assert {"accuracy", "macro_f1", "weighted_f1", "per_class", "confusion", "n_skipped"} <= set(report)
    assert f"accuracy {report['accuracy']:.3f}" in capsys.readouterr().out


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


# validate says what the data allows; train and predict fail in one line.

def test_validate_says_what_the_data_allows(small_subset, tmp_path, capsys):
    assert main(["validate", str(small_subset)]) == 0
    assert "speaker split: possible (6 speakers, at least 3 of every emotion)" in capsys.readouterr().out
    frame = pd.read_csv(small_subset, dtype=str, keep_default_na=False)
    nameless = small_subset.parent / f"{tmp_path.name}-nameless.csv"
    frame.assign(speaker="").to_csv(nameless, index=False)
    assert main(["validate", str(nameless)]) == 0
    assert ("speaker split: not possible: 96 clips name no speaker (first: Actor_01/03-01-01-01-01-01-01.wav); "
            "train with --split-mode clip to let speakers overlap") in capsys.readouterr().out
    sad = small_subset.parent / f"{tmp_path.name}-sad.csv"
    frame[frame.emotion == "sad"].to_csv(sad, index=False)
    assert main(["validate", str(sad)]) == 1
    assert ("cannot train: only one emotion (sad) among the 12 usable clips; a model needs at least two"
            in capsys.readouterr().out)


def test_validate_a_header_only_csv_exits_2(tmp_path, capsys):
    (tmp_path / "all_labels.csv").write_text("path,emotion,speaker\n")
    assert main(["validate", str(tmp_path / "all_labels.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "all_labels.csv: has a header but no rows" in err


def test_train_cli_says_how_many_rows_it_skipped(small_subset, tmp_path, capsys):
    frame = pd.read_csv(small_subset, dtype=str, keep_default_na=False)
    extra = pd.DataFrame({"path": ["Actor_01/missing.wav"], "emotion": ["sad"], "speaker": ["Actor_01"]})
    csv = small_subset.parent / f"{tmp_path.name}.csv"
    pd.concat([frame, extra]).to_csv(csv, index=False)
    staging = tmp_path / "models" / ".staging" / "mine-20250101-000000-1"
    staging.mkdir(parents=True)
    (staging / "STOP").touch()  # stop at once: only the start is wanted
    code = main(["train", "--labels", str(csv), "--out", str(tmp_path / "models" / "mine"), "--preset", "quick",
                 "--staging", str(staging)])
    assert code == 3
    assert f"skipped 1 row: 1 file not found (see `python -m ser validate {csv}`)" in capsys.readouterr().err


def test_predict_with_a_config_that_is_not_sers_is_one_line(tmp_path, real_clip, capsys):
    import shutil

    from tests.conftest import DEFAULT_MODEL

    model = tmp_path / "broken"
    shutil.copytree(DEFAULT_MODEL, model)
    (model / "config.json").write_text("[]")
    assert main(["predict", "--model", str(model), str(real_clip)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {model / 'config.json'}: is a JSON list, not the settings object ser writes; " \
                  "retrain or restore config.json.\n"


def test_a_clip_split_chosen_knowingly_says_speakers_overlap(small_subset, feature_cache, tmp_path, capsys):
    out = tmp_path / "models" / "clips"
    code = main(["train", "--labels", str(small_subset), "--out", str(out), "--preset", "quick", "--epochs", "1",
                 "--no-augment", "--ensemble-size", "1", "--split-mode", "clip", "--cache-dir", str(feature_cache)])
    assert code == 0
    printed = capsys.readouterr()
    assert "clip split: speakers overlap" in printed.err and "clip split: speakers overlap" in printed.out
    report = json.loads((out / "report.json").read_text())
    assert report["split_mode"] == "clip" and report["speakers_overlap"] is True
    assert json.loads((out / "run.json").read_text())["speakers_overlap"] is True
