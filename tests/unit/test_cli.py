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


# --out never deletes or overwrites what ser did not write (issue 22, item 3).

def _foreign_folder(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "a.wav").write_bytes(b"someone's clip")
    (folder / "report.json").write_text("someone's report")
    return folder


def _one_line(err: str, *parts: str) -> None:
    assert err.count("\n") == 1 and err.startswith("error: "), err
    for part in parts:
        assert part in err, err


def test_train_refuses_an_out_folder_that_is_not_a_model(tmp_path, capsys):
    folder = _foreign_folder(tmp_path)  # the check comes before the labels are even read
    code = main(["train", "--labels", str(tmp_path / "missing.csv"), "--out", str(folder), "--preset", "quick"])
    assert code == 2
    _one_line(capsys.readouterr().err, f"{folder}: is a folder that is not a model made by ser",
              "name a new folder")
    assert sorted(p.name for p in folder.iterdir()) == ["a.wav", "report.json"]
    assert not (tmp_path / ".staging").exists()


def test_train_refuses_a_file_or_a_link_as_its_out(tmp_path, capsys):
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(_foreign_folder(tmp_path))
    for out, what in ((file, "a file"), (link, "a link")):
        assert main(["train", "--labels", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
        _one_line(capsys.readouterr().err, f"{out}: is {what}; training replaces its --out folder")
    assert file.read_text() == "mine" and (link / "a.wav").is_file()


def test_train_library_refuses_a_foreign_folder_before_any_work(small_subset, tmp_path):
    import pytest

    from ser.config import for_preset
    from ser.errors import PathError
    from ser.training.train import train

    folder = _foreign_folder(tmp_path)
    with pytest.raises(PathError, match="is a folder that is not a model made by ser"):
        train(small_subset, folder, for_preset("quick", epochs=1), should_stop=lambda: True)
    assert sorted(p.name for p in folder.iterdir()) == ["a.wav", "report.json"]


def test_evaluate_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL

    folder = _foreign_folder(tmp_path)
    code = main(["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(tmp_path / "missing.csv"),
                 "--out", str(folder)])
    assert code == 2
    _one_line(capsys.readouterr().err, f"{folder}: is a folder holding files that `ser evaluate` does not write "
                                       "(first: 'a.wav')")
    assert (folder / "report.json").read_text() == "someone's report"
    assert not (folder / "predictions.csv").exists()


def test_evaluate_refuses_a_model_folder_as_its_out(tmp_path, capsys):
    import shutil

    from tests.conftest import DEFAULT_MODEL

    model = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL, model)
    before = (model / "report.json").read_bytes()
    assert main(["evaluate", "--model", str(model), "--labels", str(tmp_path / "missing.csv"),
                 "--out", str(model)]) == 2
    _one_line(capsys.readouterr().err, "`ser evaluate` does not write")
    assert (model / "report.json").read_bytes() == before


def test_cv_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    folder = _foreign_folder(tmp_path)
    assert main(["cv", "--labels", str(tmp_path / "missing.csv"), "--out", str(folder)]) == 2
    _one_line(capsys.readouterr().err, f"{folder}: is a folder holding files that `ser cv` does not write")


def test_robustness_report_and_labels_refuse_to_overwrite_a_foreign_file(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL, DEMO

    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    commands = {
        "robustness": ["robustness", "--model", str(DEFAULT_MODEL), "--labels", str(tmp_path / "missing.csv"),
                       "--out", str(notes)],
        "report": ["report", "--model", str(DEFAULT_MODEL), "--out", str(notes)],
        "labels": ["labels", str(DEMO), "--scheme", "ravdess", "--out", str(notes)],
    }
    for command, argv in commands.items():
        assert main(argv) == 2, command
        _one_line(capsys.readouterr().err, f"{notes}: is a file that is not", f"`ser {command}` replaces only")
        assert notes.read_text() == "my notes"
    assert main(["report", "--model", str(DEFAULT_MODEL), "--out", str(tmp_path)]) == 2
    _one_line(capsys.readouterr().err, f"{tmp_path}: is a folder; `ser report` replaces only ser's HTML report")


def test_report_and_evaluate_may_replace_their_own_earlier_output(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL

    out = tmp_path / "r.html"
    assert main(["report", "--model", str(DEFAULT_MODEL), "--out", str(out)]) == 0
    assert main(["report", "--model", str(DEFAULT_MODEL), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# One file is always one line of output, whatever its name (issue 22, item 14).

def test_a_newline_in_a_file_name_cannot_forge_a_line_of_predict_output(tmp_path, capsys):
    import shutil

    from tests.conftest import DEFAULT_MODEL, DEMO

    clip = next(DEMO.rglob("*.wav"))
    forged = tmp_path / "calm.wav\nfake.wav: happy (happy 0.99)"
    shutil.copy(clip, forged)
    bad = tmp_path / "x.wav\nerror: forged"
    bad.write_text("not audio")
    assert main(["predict", "--model", str(DEFAULT_MODEL), str(forged), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and out.startswith(f"{tmp_path}/calm.wav\\nfake.wav: happy (happy 0.99): "), out
    assert err.count("\n") == 1 and "x.wav\\nerror: forged" in err, err
    assert main(["predict", "--model", str(DEFAULT_MODEL), "--json", str(forged)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out)["file"] == str(forged)  # JSON escapes it already


def test_a_newline_in_a_labels_path_is_one_line_of_validate_output(tmp_path, capsys):
    (tmp_path / "all_labels.csv").write_text('path,emotion\n"a.wav\nrow 9: fine.wav",sad\n')
    main(["validate", str(tmp_path / "all_labels.csv")])
    out = capsys.readouterr().out
    assert "row 1: a.wav\\nrow 9: fine.wav: file not found" in out
    assert not any(line.startswith("row 9") for line in out.splitlines())


# No usable clip is an error everywhere; links to corpora kept elsewhere (issue 22, item 16).

def _linked_dataset(tmp_path):
    """``dataset/all_labels.csv`` whose clips are reached through ``dataset/clips``, a link to a folder
    elsewhere (``corpus/``), as an operator links a corpus kept on another disk."""
    import shutil

    from tests.conftest import DEMO

    corpus, dataset = tmp_path / "corpus", tmp_path / "dataset"
    labels = pd.read_csv(DEMO / "all_labels.csv")
    for p in labels.path:
        (corpus / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO / p, corpus / p)
    dataset.mkdir()
    (dataset / "clips").symlink_to(corpus, target_is_directory=True)
    labels.assign(path="clips/" + labels.path).to_csv(dataset / "all_labels.csv", index=False)
    return corpus, dataset / "all_labels.csv", len(labels)


def test_every_command_refuses_labels_without_a_usable_clip(tmp_path, capsys, monkeypatch):
    from tests.conftest import DEFAULT_MODEL

    monkeypatch.delenv("SER_DATA_ROOTS", raising=False)
    _, csv, n = _linked_dataset(tmp_path)  # every row leaves the dataset folder through the link
    commands = {
        "validate": ["validate", str(csv)],
        "evaluate": ["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(csv), "--out", str(tmp_path / "ev")],
        "robustness": ["robustness", "--model", str(DEFAULT_MODEL), "--labels", str(csv),
                       "--out", str(tmp_path / "r.json")],
        "cv": ["cv", "--labels", str(csv), "--preset", "quick", "--epochs", "1"],
        "train": ["train", "--labels", str(csv), "--out", str(tmp_path / "models" / "m"), "--preset", "quick"],
    }
    for command, argv in commands.items():
        assert main(argv) == 2, command
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{csv}: no usable clip; skipped {n} rows: {n} path leaves the dataset " \
                                         "folder" in err, (command, err)
    assert not (tmp_path / "ev").exists() and not (tmp_path / "r.json").exists()


def test_a_link_to_a_corpus_in_an_allowed_root_is_followed(tmp_path, capsys, monkeypatch):
    corpus, csv, n = _linked_dataset(tmp_path)
    monkeypatch.setenv("SER_DATA_ROOTS", str(corpus))  # the operator allows the corpus's own folder
    main(["validate", str(csv)])
    out = capsys.readouterr().out
    assert f"{n} rows, 0 problems, {n} usable clips" in out


def test_evaluate_refuses_when_no_clip_can_be_read(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL

    (tmp_path / "a.wav").write_text("not audio")
    (tmp_path / "all_labels.csv").write_text("path,emotion\na.wav,sad\n")
    assert main(["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(tmp_path / "all_labels.csv"),
                 "--out", str(tmp_path / "ev")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no usable clip" in err and not (tmp_path / "ev").exists()


# --- closed-set answers: --emotions (issue 19 part 3) ---------------------------------------------


def _demo_subset(tmp_path, per_emotion=1):
    """16 demo clips (2 speakers x 8 emotions) in a folder of their own, with its all_labels.csv."""
    from tests.conftest import DEMO, make_subset

    (tmp_path / "demo").mkdir()
    return make_subset(DEMO, tmp_path / "demo", speakers=["Actor_06", "Actor_19"], per_emotion=per_emotion)


def test_predict_emotions_answers_among_the_chosen_only(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL

    csv = _demo_subset(tmp_path)
    clips = [str(csv.parent / p) for p in pd.read_csv(csv).path]
    assert main(["predict", "--model", str(DEFAULT_MODEL), "--json", "--emotions", "angry,happy,neutral,sad",
                 *clips]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == len(clips) == 16
    for x in lines:
        assert x["emotion"] in {"angry", "happy", "neutral", "sad"}
        assert list(x["probabilities"]) == ["neutral", "happy", "sad", "angry"]
        assert abs(sum(x["probabilities"].values()) - 1) < 1e-4
    assert main(["predict", "--model", str(DEFAULT_MODEL), "--emotions", "Sad,FEAR", clips[0]]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{clips[0]}: ") and out.split(": ")[1].split(" ")[0] in ("sad", "fearful")


def test_predict_and_evaluate_refuse_a_bad_choice_of_emotions_in_one_line(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL

    csv = _demo_subset(tmp_path)
    clip = str(csv.parent / pd.read_csv(csv).path[0])
    for emotions, says in (("angry,bored", "'bored' is not an emotion this model knows; choose from neutral, calm"),
                           ("angry", "angry is one emotion only; an answer needs at least two")):
        assert main(["predict", "--model", str(DEFAULT_MODEL), "--emotions", emotions, clip]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        _one_line(err, says)
        assert main(["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(csv), "--out", str(tmp_path / "ev"),
                     "--emotions", emotions]) == 2
        _one_line(capsys.readouterr().err, says)
        assert not (tmp_path / "ev").exists()


def test_evaluate_refuses_emotions_that_none_of_the_labels_have(tmp_path, capsys):
    from tests.conftest import DEFAULT_MODEL

    csv = _demo_subset(tmp_path)
    labels = pd.read_csv(csv)
    labels[labels.emotion.isin(["sad", "happy"])].to_csv(csv, index=False)
    assert main(["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(csv), "--out", str(tmp_path / "ev"),
                 "--emotions", "angry,calm"]) == 2
    _one_line(capsys.readouterr().err, f"{csv}: none of its clips is calm or angry", "it has happy, sad")
    assert not (tmp_path / "ev").exists()


def test_evaluate_emotions_scores_only_the_chosen_emotions_clips(tmp_path, feature_cache, capsys):
    from tests.conftest import DEFAULT_MODEL

    csv = _demo_subset(tmp_path)
    chosen = ["neutral", "happy", "sad", "angry"]
    assert main(["evaluate", "--model", str(DEFAULT_MODEL), "--labels", str(csv), "--out", str(tmp_path / "ev"),
                 "--cache-dir", str(feature_cache), "--emotions", "angry,happy,neutral,sad"]) == 0
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    preds = pd.read_csv(tmp_path / "ev" / "predictions.csv")
    assert report["emotions_chosen"] == chosen and report["confusion"]["labels"] == chosen
    assert report["n_clips"] == len(preds) == 8 and set(preds.true) == set(chosen)
    assert set(preds.predicted) <= set(chosen) and set(report["per_class"]) == set(chosen)
    assert [c for c in preds.columns if c not in ("path", "true", "predicted")] == chosen
    assert (preds[chosen].sum(axis=1) - 1).abs().max() < 1e-3
    assert report["n_skipped"] == 8  # the clips of other emotions are not scored
    out = capsys.readouterr().out
    assert "on 8 clips" in out and "among neutral, happy, sad, angry" in out


# --- training settings spelled once: train's and cv's flags derived from the config (issue 20 item 4) -------


def _help(command, monkeypatch, capsys):
    import pytest

    monkeypatch.setenv("COLUMNS", "2000")  # one line per option: the help text can be read back whole
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def _config_of(argv, monkeypatch, tmp_path, command="train"):
    """The Config ``ser train ARGV`` (or ``cv``) would train with; nothing is trained."""
    import ser.training.cv
    import ser.training.train
    from ser.errors import Stopped

    seen = []

    def instead(labels, out, config, **_):
        seen.append(config)
        raise Stopped()

    def cv_instead(labels, config, **_):
        seen.append(config)
        raise Stopped()

    monkeypatch.setattr(ser.training.train, "train", instead)
    monkeypatch.setattr(ser.training.cv, "cross_validate", cv_instead)
    if command == "train":
        assert main(["train", "--labels", "x.csv", "--out", str(tmp_path / "models" / "m"), *argv]) == 3
    else:
        try:
            main(["cv", "--labels", "x.csv", *argv])
        except Stopped:
            pass
    return seen[0]


def test_every_training_setting_has_a_flag_derived_from_the_config(monkeypatch, capsys):
    from ser.config import settings

    import re

    for command in ("train", "cv"):
        text = _help(command, monkeypatch, capsys)
        options = {block.split()[0].rstrip(","): " ".join(block.split())
                   for block in re.split(r"\n(?=  -)", text) if block.startswith("  -")}
        for s in settings():
            if s.name == "preset":  # --preset is its own option: it chooses the others' defaults
                assert "--preset" in options
                continue
            flag = "--" + s.name.replace("_", "-")
            assert flag in options, (command, flag)
            assert s.help in options[flag], (command, flag)  # its words come from the config's field
        assert "--config FILE" in text and "--set FIELD=VALUE" in text
    train = " ".join(_help("train", monkeypatch, capsys).split())
    assert "--patience-epochs PATIENCE_EPOCHS, --patience PATIENCE_EPOCHS" in train  # the README's name kept
    assert "--augment, --no-augment" in train
    assert "starting learning rate (default: the preset's: default 0.001, quick 0.002, seed 5e-05)" in train
    assert "(early stopping usually ends sooner) (default: 200)" in train  # the field's, never retyped


def test_a_new_setting_gets_a_flag_without_editing_the_cli(monkeypatch, capsys):
    import dataclasses

    import ser.config

    more = dataclasses.make_dataclass("TrainConfig", [("warmup_epochs", int, dataclasses.field(
        default=0, metadata={"help": "epochs at a rising learning rate"}))], bases=(ser.config.TrainConfig,),
        frozen=True)
    monkeypatch.setitem(ser.config.SECTIONS, "train", more)
    text = " ".join(_help("train", monkeypatch, capsys).split())
    assert "--warmup-epochs WARMUP_EPOCHS epochs at a rising learning rate (default: 0)" in text


def test_the_same_flags_give_the_same_config_as_before(monkeypatch, tmp_path):
    from ser.config import for_preset

    assert _config_of([], monkeypatch, tmp_path) == for_preset("default")
    readme = ["--preset", "quick", "--epochs", "3", "--batch-size", "32", "--learning-rate", "0.01", "--patience", "5",
              "--no-augment", "--ensemble-size", "2", "--split-mode", "clip", "--seed", "4"]
    assert _config_of(readme, monkeypatch, tmp_path) == for_preset(
        "quick", epochs=3, batch_size=32, learning_rate=0.01, patience_epochs=5, augment=False, ensemble_size=2,
        split_mode="clip", seed=4)
    with_set = ["--preset", "seed", "--epochs", "7", "--set", "frame_dropout=0.1", "--set", "noise_p=0.5",
                "--set", "prosody=true", "--set", "epochs=9"]  # --set wins over a flag, as it always did
    assert _config_of(with_set, monkeypatch, tmp_path) == for_preset("seed", epochs=9, frame_dropout=0.1,
                                                                      noise_p=0.5, prosody=True)
    derived = ["--patience-epochs", "6", "--frame-dropout", "0.1", "--no-utterance-norm", "--pooling", "last",
               "--model-seed", "5", "--speaker-norm", "--no-class-weights"]
    assert _config_of(derived, monkeypatch, tmp_path) == for_preset(
        "default", patience_epochs=6, frame_dropout=0.1, utterance_norm=False, pooling="last", model_seed=5,
        speaker_norm=True, class_weights=False)
    assert _config_of(["--epochs", "1", "--seed", "2", "--set", "frame_dropout=0.1"], monkeypatch, tmp_path,
                      command="cv") == for_preset("default", epochs=1, seed=2, frame_dropout=0.1)
    assert _config_of([], monkeypatch, tmp_path, command="cv") == for_preset("default")


def test_train_and_cv_with_a_config_file_train_exactly_that_config(monkeypatch, tmp_path):
    import dataclasses

    from ser.config import Config, for_preset
    from tests.conftest import DEFAULT_MODEL

    wanted = for_preset("quick", epochs=4, seed=3, learning_rate=0.004, augment=False, frame_dropout=0.1,
                        prosody=True, target_level_dbfs=-20.0)
    wanted.save(tmp_path / "mine.json")
    for command in ("train", "cv"):
        assert _config_of(["--config", str(tmp_path / "mine.json")], monkeypatch, tmp_path, command) == wanted
        assert _config_of(["--config", str(tmp_path / "mine.json"), "--epochs", "9"], monkeypatch, tmp_path,
                          command) == dataclasses.replace(wanted, train=dataclasses.replace(wanted.train, epochs=9))
    shipped = DEFAULT_MODEL / "config.json"  # the file saved next to every model reads as it is
    assert _config_of(["--config", str(shipped)], monkeypatch, tmp_path) == Config.load(shipped)


def test_a_config_file_with_a_preset_or_that_is_missing_is_one_line(tmp_path, capsys):
    from ser.config import for_preset

    for_preset("quick").save(tmp_path / "mine.json")
    out = tmp_path / "models" / "m"
    assert main(["train", "--labels", "x.csv", "--out", str(out), "--config", str(tmp_path / "mine.json"),
                 "--preset", "seed"]) == 2
    _one_line(capsys.readouterr().err, "--preset and --config", "the config file names its preset (quick)")
    assert main(["train", "--labels", "x.csv", "--out", str(out), "--config", str(tmp_path / "none.json")]) == 2
    _one_line(capsys.readouterr().err, f"--config {tmp_path / 'none.json'}: no such file")
    assert not out.exists()


def test_set_preset_is_one_line_pointing_at_the_preset_option(tmp_path, capsys):
    # a preset chooses other settings' defaults: setting its name alone would train a mislabelled config
    assert main(["train", "--labels", "x.csv", "--out", str(tmp_path / "m"), "--set", "preset=seed"]) == 2
    _one_line(capsys.readouterr().err, "--set preset=seed: choose the preset with --preset seed")
