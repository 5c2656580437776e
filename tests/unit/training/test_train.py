import json
from pathlib import Path

import pandas as pd
import pytest

from ser.config import for_preset
from ser.errors import LabelsError, Stopped
from ser.serving.predict import Predictor
from ser.training.train import train


def test_trained_run_has_every_file(trained_quick_model):
    names = {p.name for p in trained_quick_model.iterdir()}
    assert {"model.keras", "model.h5", "model.onnx", "config.json", "history.csv", "split.csv", "report.json",
            "predictions.csv", "progress.jsonl", "run.json", "robustness.json"} <= names
    history = pd.read_csv(trained_quick_model / "history.csv")
    assert len(history) == 3 and {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(history.columns)
    report = json.loads((trained_quick_model / "report.json").read_text())
    assert report["n_clips"] == (pd.read_csv(trained_quick_model / "split.csv").split == "test").sum()
    stages = [json.loads(line)["stage"] for line in (trained_quick_model / "progress.jsonl").read_text().splitlines()]
    assert stages[0] == "start" and "features" in stages and "epoch" in stages and stages[-1] == "done"
    assert "export" in stages and Predictor.load(trained_quick_model).runtime == "onnx"


def _existing_model(tmp_path):
    out = tmp_path / "models" / "mine"
    out.mkdir(parents=True)
    (out / "model.keras").write_text("the good model")
    for_preset("quick").save(out / "config.json")  # a model folder made by ser: train may replace it
    return out


def test_failed_training_leaves_the_old_model(tmp_path):
    out = _existing_model(tmp_path)
    (tmp_path / "all_labels.csv").write_text("path,emotion\nmissing.wav,sad\n")
    with pytest.raises(LabelsError, match="no usable clip"):
        train(tmp_path / "all_labels.csv", out, for_preset("quick", epochs=1))
    assert (out / "model.keras").read_text() == "the good model"


def test_stopped_training_installs_nothing(small_subset, feature_cache, tmp_path):
    out = _existing_model(tmp_path)
    events = []
    with pytest.raises(Stopped, match="stopped after"):
        train(small_subset, out, for_preset("quick", epochs=50), cache_dir=feature_cache, progress=events.append,
              should_stop=lambda: True)
    assert (out / "model.keras").read_text() == "the good model"
    assert events[-1]["stage"] == "stopped"
    staging = next(p for p in (tmp_path / "models" / ".staging").iterdir() if p.is_dir())
    assert json.loads((staging / "progress.jsonl").read_text().splitlines()[-1])["stage"] == "stopped"


def test_successful_training_replaces_the_old_model(small_subset, feature_cache, tmp_path):
    out = _existing_model(tmp_path)
    result = train(small_subset, out, for_preset("quick", epochs=1, augment=False), cache_dir=feature_cache)
    assert result.model_dir == out and (out / "model.h5").is_file()
    assert (out / "model.keras").read_bytes()[:2] == b"PK"  # a real Keras archive now
    assert not any((tmp_path / "models" / ".trash").iterdir())


def test_ensemble_saves_one_model_that_averages_its_members(small_subset, feature_cache, tmp_path):
    import numpy as np

    out = tmp_path / "models" / "pair"
    result = train(small_subset, out, for_preset("quick", epochs=2, ensemble_size=2, augment=False),
                   cache_dir=feature_cache)
    assert result.model_dir == out
    history = pd.read_csv(out / "history.csv")
    assert history.groupby("member").size().to_dict() == {1: 2, 2: 2}
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(("member", "history"))) == ["history.csv"]
    predictor = Predictor.load(out, runtime="keras")
    nets = [layer for layer in predictor.model.layers if layer.name.startswith("ser_quick_member")]
    assert len(nets) == 2
    X = np.random.default_rng(0).normal(size=(3, *predictor.input_shape)).astype("float32")
    mean = np.mean([np.asarray(net(X, training=False)) for net in nets], axis=0)
    assert np.allclose(predictor.predict_features(X), mean, atol=1e-5)
    assert np.allclose(Predictor.load(out).predict_features(X), mean, atol=1e-5)  # its ONNX export too
    assert not np.allclose(np.asarray(nets[0](X)), np.asarray(nets[1](X)), atol=1e-3)  # different starts
    epochs = [json.loads(line) for line in (out / "progress.jsonl").read_text().splitlines()]
    assert {(e["member"], e["members"]) for e in epochs if e["stage"] == "epoch"} == {(1, 2), (2, 2)}


def test_summary_members_are_averaged_with_the_networks_and_exported(small_subset, feature_cache, tmp_path):
    import numpy as np

    out = tmp_path / "models" / "mixed"
    train(small_subset, out, for_preset("quick", epochs=2, ensemble_size=1, augment=False, summary_members=1),
          cache_dir=feature_cache)
    predictor = Predictor.load(out, runtime="keras")
    nets = {layer.name: layer for layer in predictor.model.layers if "member" in layer.name}
    assert sorted(nets) == ["ser_quick_member1", "ser_summary_member2"]
    assert "TemporalSummary" in [type(layer).__name__ for layer in nets["ser_summary_member2"].layers]
    X = np.random.default_rng(0).normal(size=(3, *predictor.input_shape)).astype("float32")
    mean = np.mean([np.asarray(net(X, training=False)) for net in nets.values()], axis=0)
    assert np.allclose(predictor.predict_features(X), mean, atol=1e-5)
    onnx = Predictor.load(out)
    assert onnx.runtime == "onnx" and np.allclose(onnx.predict_features(X), mean, atol=1e-5)
    assert json.loads((out / "config.json").read_text())["train"]["summary_members"] == 1
    assert set(pd.read_csv(out / "history.csv")["member"]) == {1, 2}


# Hostile names and crashes around the install.

NAME_RULE = ("is not allowed: use 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit "
             "(no '/' and no '..').")


def test_a_model_folder_named_dotdot_is_refused_by_train_and_the_cli(tmp_path, capsys):
    import re

    from ser.__main__ import main
    from ser.errors import PathError

    models = tmp_path / "models"
    models.mkdir()
    with pytest.raises(PathError, match=re.escape(f"model folder name '..' {NAME_RULE}")):
        train(tmp_path / "all_labels.csv", models / "..", for_preset("quick", epochs=1))
    code = main(["train", "--labels", str(tmp_path / "all_labels.csv"), "--out", str(models / ".."),
                 "--preset", "quick"])
    assert code == 2
    assert capsys.readouterr().err == f"error: model folder name '..' {NAME_RULE}\n"
    assert list(models.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["models"]


def test_cleanup_removes_only_this_names_stale_staging(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = _existing_model(tmp_path)
    stage = tmp_path / "models" / ".staging"
    dead = 2 ** 22 + 12345  # above any pid_max: no such process
    live = subprocess.Popen(["sleep", "60"])
    try:
        mine_stale = stage / f"mine-20250101-000000-{dead}"
        mine_live = stage / f"mine-20250101-000001-{live.pid}"  # a train() of this name in another process
        other_run = stage / f"mine-2-20250101-000000-{dead}"  # the run named "mine-2", not "mine"
        for d in (mine_stale, mine_live, other_run):
            (d / "progress.jsonl").parent.mkdir(parents=True)
            (d / "progress.jsonl").write_text("{}\n")
        (tmp_path / "all_labels.csv").write_text("path,emotion\nmissing.wav,sad\n")
        # a failed run started as the dashboard starts one: the staging name carries this (live)
        # process's id, the run itself was another process, now ended
        from_dashboard = stage / f"mine-20250101-000002-{os.getpid()}"
        ended = subprocess.run([sys.executable, "-m", "ser", "train", "--labels", str(tmp_path / "all_labels.csv"),
                                "--out", str(out), "--staging", str(from_dashboard)],
                               cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, timeout=120)
        assert ended.returncode == 2 and "no usable clip" in ended.stderr and from_dashboard.is_dir()
        with pytest.raises(LabelsError, match="no usable clip"):
            train(tmp_path / "all_labels.csv", out, for_preset("quick", epochs=1))
        assert other_run.is_dir() and mine_live.is_dir()
        assert not mine_stale.exists() and not from_dashboard.exists()
    finally:
        live.kill()
        live.wait()


_INSTALL_AND_DIE = """
import os, shutil, signal, sys
from pathlib import Path
import ser.training.runs

staging, out, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

def dying(real, when):
    def call(*args, **kw):
        if when(Path(args[0])):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kw)
    return call

if point == "between renames":  # just before the new model is moved in: the old one is in .trash
    os.replace = dying(os.replace, lambda src: src == staging)
    os.rename = dying(os.rename, lambda src: src == staging)
else:  # the new model is in place, the old one not yet deleted
    shutil.rmtree = dying(shutil.rmtree, lambda p: ".trash" in p.parts)
ser.training.runs.install(staging, out)
"""


@pytest.mark.parametrize("point", ["between renames", "before the old model is deleted"])
def test_install_killed_midway_leaves_one_whole_model(tmp_path, point):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from ser.training.runs import list_models

    models = tmp_path / "models"
    out, staging = models / "mine", models / ".staging" / "mine-20250101-000000-1"
    old, new = {"config.json": b"{}", "model.keras": os.urandom(4096)}, {"config.json": b"{}", "model.keras": b"new"}
    for folder, files in ((out, old), (staging, new)):
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    repo = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, "-c", _INSTALL_AND_DIE, str(staging), str(out), point],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr  # it died where it was meant to
    assert list_models(models) == [out]
    expected = old if point == "between renames" else new
    assert {p.name: p.read_bytes() for p in out.iterdir()} == expected
    assert not any((models / ".trash").iterdir())


# What the data allows is checked before anything is trained (the runs below are asked to stop at
# once, so code that would train anyway ends as "stopped" instead of raising).

def _variant(small_subset, tmp_path, edit) -> "Path":
    """A labels CSV beside the subset's clips: the subset's rows changed by ``edit(frame)``."""
    frame = pd.read_csv(small_subset, dtype=str, keep_default_na=False)
    out = small_subset.parent / f"{tmp_path.name}.csv"
    edit(frame).to_csv(out, index=False)
    return out


def test_a_header_only_csv_is_refused_before_training(tmp_path):
    (tmp_path / "all_labels.csv").write_text("path,emotion,speaker\n")
    with pytest.raises(LabelsError, match=r"all_labels\.csv: has a header but no rows"):
        train(tmp_path / "all_labels.csv", tmp_path / "models" / "mine", for_preset("quick", epochs=1),
              should_stop=lambda: True)


def test_one_emotion_is_refused_before_training(small_subset, tmp_path):
    csv = _variant(small_subset, tmp_path, lambda f: f[f.emotion == "sad"])
    with pytest.raises(LabelsError, match=r"only one emotion \(sad\) among the 12 usable clips; a model needs at "
                                          r"least two"):
        train(csv, tmp_path / "models" / "mine", for_preset("quick", epochs=1), should_stop=lambda: True)


def test_an_empty_speaker_cell_is_refused_not_silently_split_by_clip(small_subset, tmp_path):
    def blank_one(f):
        f.loc[5, "speaker"] = ""
        return f

    csv = _variant(small_subset, tmp_path, blank_one)
    with pytest.raises(LabelsError, match=r"cannot split by speaker: 1 clip names no speaker .*--split-mode clip"):
        train(csv, tmp_path / "models" / "mine", for_preset("quick", epochs=1), should_stop=lambda: True)


def test_the_start_event_says_how_many_rows_were_skipped(small_subset, tmp_path):
    extra = pd.DataFrame({"path": ["Actor_01/missing.wav", "Actor_01/03-01-05-01-01-01-01.wav"],
                          "emotion": ["sad", "boredom"], "speaker": ["Actor_01", "Actor_01"]})
    csv = _variant(small_subset, tmp_path, lambda f: pd.concat([f, extra], ignore_index=True))
    events = []
    with pytest.raises(Stopped):
        train(csv, tmp_path / "models" / "mine", for_preset("quick", epochs=1), progress=events.append,
              should_stop=lambda: True)
    start = next(e for e in events if e["stage"] == "start")
    assert start["n_skipped"] == 2 and start["skipped"] == "skipped 2 rows: 1 file not found, 1 unknown emotion"
    assert start["split_mode"] == "speaker" and start["speakers_overlap"] is False
