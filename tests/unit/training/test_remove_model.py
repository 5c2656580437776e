"""remove_model deletes a personal model folder and nothing else: never the shipped model, a trained model,
another visitor's personal model, nor the folder of a training in progress."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from ser.access import AccessError, Visitor
from ser.errors import PathError, TrainingError
from ser.training.runs import claim, finish, list_models, remove_model
from tests.conftest import DEFAULT_MODEL

ME, OTHER = Visitor("me"), Visitor("someone-else")


@pytest.fixture(scope="module")
def personal_model(ravdess, feature_cache, tmp_path_factory):
    """A real personal model of Actor_01 (2 clips of each of 2 emotions), made by a page's visitor ME."""
    from ser.serving.adapt import adapt

    os.environ["SER_CACHE_DIR"] = str(feature_cache)
    tmp = tmp_path_factory.mktemp("remove")
    frame = pd.read_csv(ravdess / "all_labels.csv")
    frame = frame[(frame.speaker == "Actor_01") & frame.emotion.isin(["happy", "sad"])].groupby("emotion").head(2)
    csv = tmp / "all_labels.csv"
    frame.assign(path=[str(ravdess / p) for p in frame.path]).to_csv(csv, index=False)
    return adapt(DEFAULT_MODEL, csv, out_dir=tmp / "models" / "mine", by=ME).out_dir


@pytest.fixture
def models(tmp_path, personal_model):
    folder = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL, folder / "default")
    shutil.copytree(personal_model, folder / "mine")
    return folder


def test_a_personal_model_is_removed_by_who_made_it(models):
    remove_model(models, "mine", by=ME)
    assert not (models / "mine").exists()
    assert [p.name for p in list_models(models)] == ["default"]
    assert not [p for p in models.iterdir() if "mine" in p.name]  # no hidden leftover either


def test_the_operator_and_the_command_line_may_remove_it(models):
    remove_model(models, "mine", by=Visitor("op", operator=True))
    assert not (models / "mine").exists()
    shutil.copytree(models / "default", models / "other")
    (models / "other" / "adapted.json").write_text("{}")
    remove_model(models, "other")  # by=None: the command line
    assert not (models / "other").exists()


def test_the_shipped_and_trained_models_are_refused(models):
    before = sorted(p.name for p in (models / "default").iterdir())
    with pytest.raises(AccessError, match=r"“default” is not a personal model"):
        remove_model(models, "default", by=ME)
    with pytest.raises(AccessError, match=r"“default” is not a personal model"):
        remove_model(models, "default")
    assert sorted(p.name for p in (models / "default").iterdir()) == before


def test_another_visitors_personal_model_is_refused(models):
    with pytest.raises(AccessError, match=r"“mine” is another visitor's model"):
        remove_model(models, "mine", by=OTHER)
    assert (models / "mine" / "model.onnx").is_file()


def test_a_running_trainings_folder_is_refused(models):
    claim(models, name="mine", staging=models / ".staging" / "mine")  # this process: alive
    with pytest.raises(TrainingError, match=r"“mine”: a training of that name is in progress"):
        remove_model(models, "mine", by=ME)
    assert (models / "mine" / "model.onnx").is_file()
    finish(models, status="failed", progress=models / ".staging" / "mine" / "progress.jsonl")
    remove_model(models, "mine", by=ME)
    assert not (models / "mine").exists()


def test_a_missing_or_bad_name_is_one_line(models):
    with pytest.raises(PathError, match=r"“nothere”: no such model"):
        remove_model(models, "nothere", by=ME)
    with pytest.raises(PathError, match=r"model name '\.\./default' is not allowed"):
        remove_model(models, "../default", by=ME)
