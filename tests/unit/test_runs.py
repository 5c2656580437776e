import json
import os
import time
from pathlib import Path

import pytest

from ser.errors import TrainingError
from ser.progress import read_events
from ser.runs import claim, current_run, finish, list_models, request_stop, start_training_process


def _wait(models: Path, *, until, timeout_s: float = 240):
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        run = current_run(models)
        if until(run):
            return run
        time.sleep(0.5)
    raise AssertionError(f"timed out; last record {current_run(models)}")


def test_one_run_at_a_time(tmp_path):
    claim(tmp_path, name="a", staging=tmp_path / ".staging" / "a")  # this process, alive
    with pytest.raises(TrainingError, match=r"a training run \('a'.*is in progress"):
        claim(tmp_path, name="b", staging=tmp_path / "s", pid=os.getppid())
    finish(tmp_path, status="done", progress=tmp_path / "a" / "progress.jsonl")
    assert current_run(tmp_path)["running"] is False


def test_dead_process_counts_as_failed(tmp_path):
    claim(tmp_path, name="a", staging=tmp_path / "s", pid=2 ** 22 + 12345)
    run = current_run(tmp_path)
    assert run["running"] is False and run["status"] == "failed" and "ended without finishing" in run["error"]


def test_background_run_follows_and_stops(small_subset, tmp_path, feature_cache):
    models = tmp_path / "models"
    (models / "keep").mkdir(parents=True)
    (models / "keep" / "model.keras").write_text("old")
    run = start_training_process(labels=small_subset, models_dir=models, name="keep",
                                 options={"preset": "quick", "epochs": 200, "patience": 200,
                                          "cache_dir": feature_cache})
    with pytest.raises(TrainingError, match="in progress"):
        start_training_process(labels=small_subset, models_dir=models, name="other", options={})
    progress = Path(run["progress"])
    t0 = time.time()
    while not any(e["stage"] == "epoch" for e in read_events(progress)):
        assert time.time() - t0 < 240, (Path(run["staging"]) / "train.log").read_text()
        time.sleep(0.5)
    assert request_stop(models)
    ended = _wait(models, until=lambda r: not r["running"])
    assert ended["status"] == "stopped"
    assert read_events(progress)[-1]["stage"] == "stopped"
    assert (models / "keep" / "model.keras").read_text() == "old"


def test_background_run_installs_and_is_listed(small_subset, tmp_path, feature_cache):
    models = tmp_path / "models"
    start_training_process(labels=small_subset, models_dir=models, name="fresh",
                           options={"preset": "quick", "epochs": 2, "no_augment": True,
                                    "cache_dir": feature_cache})
    ended = _wait(models, until=lambda r: not r["running"])
    assert ended["status"] == "done", json.dumps(ended)
    assert list_models(models) == [models / "fresh"]
    assert read_events(ended["progress"])[-1]["stage"] == "done"
