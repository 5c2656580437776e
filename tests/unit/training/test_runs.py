import json
import os
import time
from pathlib import Path

import pytest

from ser.config import Config, for_preset
from ser.errors import TrainingError
from ser.training.progress import read_events
from ser.training.runs import claim, current_run, finish, list_models, request_stop, start_training_process


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
    Config().save(models / "keep" / "config.json")  # a model folder made by ser: a run may replace it
    run = start_training_process(labels=small_subset, models_dir=models, name="keep",
                                 config=for_preset("quick", epochs=200, patience_epochs=200), cache_dir=feature_cache)
    with pytest.raises(TrainingError, match="in progress"):
        start_training_process(labels=small_subset, models_dir=models, name="other")
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
    config = for_preset("quick", epochs=2, augment=False, frame_dropout=0.1)
    start_training_process(labels=small_subset, models_dir=models, name="fresh", config=config,
                           cache_dir=feature_cache)
    ended = _wait(models, until=lambda r: not r["running"])
    assert ended["status"] == "done", json.dumps(ended)
    assert list_models(models) == [models / "fresh"]
    assert Config.load(models / "fresh" / "config.json") == config  # trained with exactly the page's config
    command = json.loads((models / "fresh" / "run.json").read_text())["command"]  # names the config installed
    assert command.endswith(f"--config {models / 'fresh' / 'config.json'} --cache-dir {feature_cache}"), command
    assert read_events(ended["progress"])[-1]["stage"] == "done"


# Hostile input and races: names that leave the models folder, two starts at once, reused process
# ids, a stop that comes after the run has installed.

NAME_RULE = ("is not allowed: use 1-80 letters, digits, '.', '_' or '-', starting with a letter or digit "
             "(no '/' and no '..').")


def test_a_run_name_that_leaves_the_models_folder_is_refused(tmp_path):
    import re

    from ser.errors import PathError

    models = tmp_path / "a" / "models"
    with pytest.raises(PathError, match=re.escape(f"run name '../../x' {NAME_RULE}")):
        start_training_process(labels=tmp_path / "missing.csv", models_dir=models, name="../../x")
    with pytest.raises(PathError, match=re.escape(f"run name '../x' {NAME_RULE}")):
        claim(models, name="../x", staging=models / ".staging" / "x")
    assert list(tmp_path.rglob("*")) == []  # nothing written, inside or outside


def test_two_simultaneous_starts_accept_exactly_one(tmp_path):
    import re
    import threading

    models = tmp_path / "models"
    n = 6
    barrier = threading.Barrier(n)
    accepted, refused = [], []

    def start(i):
        barrier.wait()
        try:  # missing labels: the accepted run fails at once, and no training happens
            accepted.append(start_training_process(labels=tmp_path / "missing.csv", models_dir=models,
                                                   name=f"r{i}"))
        except TrainingError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _wait(models, until=lambda r: not r["running"], timeout_s=60)
    started = sorted(p.name for p in (models / ".staging").iterdir() if p.is_dir())  # one per process started
    assert len(started) == 1, f"{len(started)} training processes started at once"
    assert len(accepted) == 1 and started == [Path(accepted[0]["staging"]).name]
    assert len(refused) == n - 1 and all(
        re.fullmatch(r"a training run \('r\d'\) is in progress; wait for it or stop it first\.", m) for m in refused)


def test_a_reused_process_id_does_not_keep_a_dead_run_running(tmp_path):
    import subprocess

    from ser.training.runs import RUN_RECORD

    first = subprocess.Popen(["sleep", "60"])
    claim(tmp_path, name="a", staging=tmp_path / ".staging" / "a", pid=first.pid)
    first.kill()
    first.wait()
    time.sleep(0.1)  # a later process, as the one the kernel gives the old id to
    other = subprocess.Popen(["sleep", "60"])
    try:
        record_file = tmp_path / RUN_RECORD
        record = json.loads(record_file.read_text())
        record["pid"] = other.pid  # the recorded id now names a live process that is not the run
        record_file.write_text(json.dumps(record))
        run = current_run(tmp_path)
        assert run["running"] is False and run["status"] == "failed"
        claim(tmp_path, name="b", staging=tmp_path / ".staging" / "b")  # a new run may start
    finally:
        other.kill()
        other.wait()


def test_stop_after_the_run_installed_says_nothing_is_running(tmp_path):
    from ser.training.runs import install

    staging = tmp_path / ".staging" / "mine-20250101-000000-1"
    staging.mkdir(parents=True)
    (staging / "model.keras").write_text("new")
    claim(tmp_path, name="mine", staging=staging)  # this process: the run is still finishing
    install(staging, tmp_path / "mine")  # its staging folder is the model now
    assert request_stop(tmp_path) is False
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["model.keras"]


def test_stop_refuses_a_record_whose_staging_is_outside_the_models_folder(tmp_path):
    import re

    from ser.errors import PathError
    from ser.training.runs import RUN_RECORD

    models, elsewhere = tmp_path / "models", tmp_path / "elsewhere"
    elsewhere.mkdir()
    claim(models, name="a", staging=models / ".staging" / "a-1")
    record = json.loads((models / RUN_RECORD).read_text())
    record["staging"] = str(elsewhere)  # a hand-edited record
    (models / RUN_RECORD).write_text(json.dumps(record))
    with pytest.raises(PathError, match=re.escape(f"{models / RUN_RECORD}: the staging folder {elsewhere} is not "
                                                  f"in {models / '.staging'}; stop the process {os.getpid()} "
                                                  "yourself or delete the record.")):
        request_stop(models)
    assert not (elsewhere / "STOP").exists()


def test_a_dashboard_run_over_a_folder_that_is_not_a_model_fails_saying_why(tmp_path, small_subset):
    # issue 22 item 3: the run is refused before any work, and its record names the reason
    models = tmp_path / "models"
    (models / "notes").mkdir(parents=True)
    (models / "notes" / "todo.txt").write_text("mine")
    start_training_process(labels=small_subset, models_dir=models, name="notes", config=for_preset("quick"))
    ended = _wait(models, until=lambda r: not r["running"], timeout_s=120)
    assert ended["status"] == "failed" and "is a folder that is not a model made by ser" in ended["error"]
    assert (models / "notes" / "todo.txt").read_text() == "mine"


def test_a_page_start_writes_its_config_and_launches_train_with_config_only(tmp_path, monkeypatch):
    # issue 20 item 4: the settings travel as the config file saved next to every model, never flag by flag
    import shlex
    import subprocess

    from ser.config import for_preset

    launched = []

    class Launched:
        def __init__(self, cmd, **_):
            launched.append(cmd)
            self.pid = os.getpid()  # alive, so the record says running

    monkeypatch.setattr(subprocess, "Popen", Launched)
    models = tmp_path / "models"
    config = for_preset("quick", epochs=3, patience_epochs=5, augment=False, split_mode="clip", ensemble_size=2)
    run = start_training_process(labels=[tmp_path / "a.csv", tmp_path / "b.csv"], models_dir=models, name="mine",
                                 config=config, cache_dir=tmp_path / "cache")
    [cmd] = launched
    staging = Path(run["staging"])
    assert cmd[1:] == ["-m", "ser", "train", "--labels", str(tmp_path / "a.csv"), "--labels", str(tmp_path / "b.csv"),
                       "--out", str(models / "mine"), "--staging", str(staging),
                       "--config", str(staging / "config.json"), "--cache-dir", str(tmp_path / "cache")]
    assert Config.load(staging / "config.json") == config
    assert run["command"] == shlex.join(cmd)
    start_training_process(labels=tmp_path / "a.csv", models_dir=tmp_path / "other", name="plain")
    assert Config.load(Path(current_run(tmp_path / "other")["staging"]) / "config.json") == Config()
