import json
import os
import re
from pathlib import Path

import pytest

from ser.config import Config

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "models" / "default"


def _folder(tmp_path: Path, files=("config.json", "model.keras", "model.h5", "model.onnx")) -> Path:
    for name in files:
        if name == "config.json":
            Config().save(tmp_path / name)
        else:
            (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, ns=(10**18, 10**18))
    return tmp_path


@pytest.mark.parametrize("changed", ["config.json", "model.keras", "model.h5", "model.onnx"])
def test_one_fingerprint_sees_every_file_that_makes_the_predictions(tmp_path, changed):
    # before: the Evaluate page's stamp missed a new model.onnx, the predictor's cache key a new config.json
    from ser.model_folder import ModelFolder

    folder = ModelFolder(_folder(tmp_path))
    before = folder.fingerprint()
    os.utime(tmp_path / changed, ns=(2 * 10**18, 2 * 10**18))
    assert folder.fingerprint() != before


def test_fingerprint_of_a_folder_without_an_export_and_of_an_empty_one(tmp_path):
    from ser.model_folder import ModelFolder

    assert ModelFolder(tmp_path).fingerprint() == "none"
    _folder(tmp_path, files=("config.json", "model.h5"))
    assert re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", ModelFolder(tmp_path).fingerprint())


@pytest.mark.parametrize("page", ["pages/evaluate.py", "pages/_ui/models.py"])
def test_both_pages_take_the_model_version_from_the_model_folder(page):
    source = (ROOT / page).read_text()
    assert "st_mtime" not in source, f"{page} fingerprints the model itself"
    assert ".fingerprint()" in source


def test_file_names_are_spelled_once():
    # each name a training writes is a literal in ser/model_folder.py only (docstrings and messages may name them)
    names = ["run.json", "split.csv", "model.keras", "model.h5", "model.onnx", "config.json", "report.json",
             "robustness.json", "progress.jsonl", "history.csv", "predictions.csv", "train.log", "STOP"]
    owners = ["ser/training/fit.py", "ser/training/train.py", "ser/training/runs.py", "ser/results/evaluate.py",
              "ser/results/robustness.py", "ser/serving/predict.py", "ser/serving/export.py", "ser/outputs.py",
              "pages/_ui/models.py", "pages/evaluate.py", "pages/train.py", "ser/training/cv.py", "ser/__main__.py"]
    for path in owners:
        code = (ROOT / path).read_text()
        for name in names:
            for m in re.finditer(r"""(?<![\w`])["']""" + re.escape(name) + r"""["']""", code):
                line = code[code.rfind("\n", 0, m.start()) + 1:code.find("\n", m.end())]
                assert False, f"{path}: {line.strip()}"


def test_the_shipped_model_folder_reads_through_it():
    from ser.model_folder import ModelFolder

    folder = ModelFolder(DEFAULT)
    assert folder.has_model()
    assert folder.config() == Config.load(DEFAULT / "config.json")
    assert folder.run() == json.loads((DEFAULT / "run.json").read_text())
    assert folder.report() == json.loads((DEFAULT / "report.json").read_text())
    assert folder.robustness() == json.loads((DEFAULT / "robustness.json").read_text())
    assert folder.training_labels().name == "all_labels.csv"
    results = folder.results()
    assert set(results) == {"report", "run", "config", "robustness", "history", "split", "predictions"}
    assert len(results["split"]) == results["run"]["n_clips"]
    assert folder.fingerprint() != "none"


def test_an_old_model_folder_still_loads(tmp_path):
    # a model trained before the export, the robustness report and the run record existed
    from ser.model_folder import ModelFolder

    import json

    for name in ("model.keras", "report.json"):
        (tmp_path / name).write_bytes((DEFAULT / name).read_bytes())
    config = json.loads((DEFAULT / "config.json").read_text())
    for key in ("encoder_member", "encoder_weight"):  # written before the encoder member: networks only
        config["train"].pop(key)
    (tmp_path / "config.json").write_text(json.dumps(config))
    folder = ModelFolder(tmp_path)
    assert folder.has_model() and folder.robustness() is None and folder.run() == {}
    assert folder.training_labels() is None
    results = folder.results()
    assert results["report"]["accuracy"] == folder.report()["accuracy"]
    assert results["history"] is None and results["split"] is None

    from ser.serving.predict import Predictor

    predictor = Predictor.load(tmp_path)
    assert predictor.runtime == "keras" and predictor.emotions == list(folder.config().emotions)


def test_a_folder_without_a_model_file_is_not_a_model(tmp_path):
    from ser.model_folder import ModelFolder

    Config().save(tmp_path / "config.json")
    assert not ModelFolder(tmp_path).has_model()
    (tmp_path / "model.h5").mkdir()
    assert not ModelFolder(tmp_path).has_model()


def test_what_is_measured_about_a_model_lives_outside_it_one_folder_per_version(tmp_path, monkeypatch):
    """The Evaluate page's robustness and evaluations of a model go to ModelFolder.derived_dir: beside
    the feature cache, never inside the installed model, and a new version of the model gets a new one."""
    import os

    from ser.model_folder import ModelFolder

    monkeypatch.setenv("SER_CACHE_DIR", str(tmp_path / "cache" / "features"))
    model = tmp_path / "models" / "mine"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "model.keras").write_bytes(b"x")
    first = ModelFolder(model).derived_dir()
    assert first.parent == tmp_path / "cache" / "derived" and first.name.startswith("mine-")
    assert model not in first.parents
    os.utime(model / "model.keras", ns=(1, 1))  # a new training installs new files
    assert ModelFolder(model).derived_dir() != first


def test_a_part_of_the_split_is_found_under_each_corpus_folder(tmp_path):
    """split.csv's paths are relative to their corpus's labels CSV (run.json): the model folder says where each
    clip is on this machine, and one line says why not."""
    from ser.errors import ModelError
    from ser.model_folder import ModelFolder
    from ser.paths import from_portable

    folder = ModelFolder(DEFAULT)
    test = folder.split_clips("test")
    assert set(test["split"]) == {"test"} and set(test["corpus"]) == {"ravdess", "nemo", "indian_emospeech"}
    for corpus, labels in ((c, from_portable(v["labels"])) for c, v in folder.run()["corpora"].items()):
        mine = test[test["corpus"] == corpus]
        assert list(mine["abspath"]) == [str(labels.parent / p) for p in mine["path"]]
    assert all(Path(p).is_file() for p in test["abspath"].head(3))
    with pytest.raises(ModelError, match=r"split\.csv: missing"):
        ModelFolder(tmp_path).split_clips("test")
    (tmp_path / "split.csv").write_bytes((DEFAULT / "split.csv").read_bytes())
    with pytest.raises(ModelError, match=r"run\.json: does not say where the test clips are"):
        ModelFolder(tmp_path).split_clips("test")
