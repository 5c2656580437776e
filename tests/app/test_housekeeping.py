"""The sidebar shows the feature cache's size and clears it; stale workers are reported and stopped."""

import json
import os
import signal
import subprocess
import sys

import numpy as np

from tests.app.test_app import no_exception, open_app
from tests.app.test_security import operator_app


def test_feature_cache_size_and_clear(tmp_path, monkeypatch):
    from ser.features.cache import FeatureCache

    cache = FeatureCache(tmp_path / "features")
    for key in ("aa1", "bb2", "cc3"):
        cache.put(key, np.zeros((182, 1000), dtype=np.float32))  # 0.7 MB each
    monkeypatch.setenv("SER_CACHE_DIR", str(tmp_path / "features"))
    at = operator_app()  # clearing the cache is the operator's
    no_exception(at)
    assert any(e.label == "Feature cache: 2 MB" for e in at.sidebar.expander)
    next(b for b in at.sidebar.button if b.label == "Clear the feature cache").click().run()
    no_exception(at)
    assert cache.size_bytes() == 0
    assert any(e.label == "Feature cache: 0 MB" for e in at.sidebar.expander)


def test_stale_workers_are_reported_and_stopped(tmp_path, monkeypatch):
    from ser.parallel.processes import process_started

    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / f"{orphan.pid}.json").write_text(json.dumps({"pid": orphan.pid, "parent": gone.pid, "started": 0,
                                                            "pid_started": process_started(orphan.pid)}))
    monkeypatch.setenv("SER_WORKERS_DIR", str(tmp_path))
    try:
        at = operator_app()  # stopping processes is the operator's
        no_exception(at)
        assert any(f"pids {orphan.pid}" in w.value for w in at.sidebar.warning)
        next(b for b in at.sidebar.button if b.label == "Stop them").click().run()
        no_exception(at)
        assert orphan.wait(timeout=10) == -signal.SIGKILL
        assert not at.sidebar.warning
    finally:
        if orphan.poll() is None:
            os.kill(orphan.pid, signal.SIGKILL)


def test_a_training_started_by_a_test_is_reaped(small_subset, own_models_folder, monkeypatch, feature_cache):
    from ser.config import for_preset
    from ser.training.runs import current_run, start_training_process
    from ser.parallel.workers import pid_alive
    from tests.app.conftest import reap_trainings

    monkeypatch.setenv("SER_CACHE_DIR", str(feature_cache))
    run = start_training_process(labels=small_subset, models_dir=own_models_folder, name="left-running",
                                 config=for_preset("quick", epochs=500, patience_epochs=500))
    assert current_run(own_models_folder)["running"]
    reap_trainings(own_models_folder)
    assert not pid_alive(int(run["pid"]))
    assert not current_run(own_models_folder)["running"]


def test_stop_them_never_kills_a_process_that_reused_a_workers_pid(tmp_path, monkeypatch):
    """A stale record whose pid now belongs to another process (its start time differs) is not shown nor
    signalled (issue 22, item 13)."""
    from ser.parallel.processes import process_started

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / f"{other.pid}.json").write_text(json.dumps({"pid": other.pid, "parent": gone.pid, "started": 0,
                                                             "pid_started": process_started(other.pid) - 1}))
    monkeypatch.setenv("SER_WORKERS_DIR", str(tmp_path))
    try:
        at = open_app()
        no_exception(at)
        assert not at.sidebar.warning
        assert not any(b.label == "Stop them" for b in at.sidebar.button)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
