"""Features and cv folds on a Dask cluster: the same numbers as on this machine, a shared cache, stops and
an address that does not answer."""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest

from ser.config import for_preset
from ser.errors import SerError, Stopped
from ser.features.cache import FeatureCache
from ser.features.clips import ClipTask
from ser.features.engine import extract_many
from tests.conftest import DEMO, make_subset

CLIPS = sorted(DEMO.rglob("*.wav"))[::16]  # 6 real demo clips, RAVDESS and nEMO speakers
VERSIONS = ("original", "recording", "stretch", "pitch")
NOBODY = "tcp://127.0.0.1:9"  # the discard port: no scheduler ever answers there


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and 2 worker processes of 1 thread each, as `dask worker --nthreads 1` starts them."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as c:
        yield c.scheduler_address


@pytest.fixture
def short_timeout(monkeypatch):
    import ser.parallel.cluster

    monkeypatch.setattr(ser.parallel.cluster, "CONNECT_TIMEOUT_S", 2)


def _tasks(tmp_path):
    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"not a wave file")
    return [ClipTask(str(p), VERSIONS) for p in CLIPS] + [ClipTask(str(bad))]


def test_features_on_a_cluster_equal_local_ones(cluster, tmp_path):
    tasks = _tasks(tmp_path)
    config = for_preset("quick")
    # the local pool, as on any machine of 2 cores or more (one BLAS thread per worker, as Dask's workers)
    local = extract_many(tasks, config=config, cache_dir=tmp_path / "local", n_jobs=2)
    seen = []
    remote = extract_many(tasks, config=config, cache_dir=tmp_path / "shared", cluster=cluster,
                          progress=lambda d, t: seen.append((d, t)))
    for here, there in zip(local[:-1], remote[:-1]):
        assert set(here) == set(there) == set(VERSIONS)
        assert all(np.array_equal(here[v], there[v]) for v in VERSIONS)
    assert isinstance(remote[-1], SerError) and type(remote[-1]) is type(local[-1])  # in its place, as here
    assert str(remote[-1]) == str(local[-1])
    assert seen[0] == (0, len(tasks)) and seen[-1] == (len(tasks), len(tasks))
    # the workers wrote into the cache folder they were given, the same entries this machine writes
    assert sorted(p.name for p, _, _ in FeatureCache(tmp_path / "shared").entries()) == \
        sorted(p.name for p, _, _ in FeatureCache(tmp_path / "local").entries())


def test_workers_reuse_each_others_features_through_a_shared_cache(cluster, tmp_path, monkeypatch):
    tasks = [ClipTask(str(p), VERSIONS) for p in CLIPS]
    config = for_preset("quick")
    first = extract_many(tasks, config=config, cache_dir=tmp_path / "shared", cluster=cluster)
    files = {p: os.stat(p).st_ino for p, _, _ in FeatureCache(tmp_path / "shared").entries()}
    assert len(files) == len(CLIPS) * len(VERSIONS)
    again = extract_many(tasks, config=config, cache_dir=tmp_path / "shared", cluster=cluster)
    # every matrix was read, none written again (a write replaces the file: a new inode), whichever worker
    assert {p: os.stat(p).st_ino for p, _, _ in FeatureCache(tmp_path / "shared").entries()} == files
    import ser.features.clips

    monkeypatch.setattr(ser.features.clips, "extract_features", lambda *a, **k: pytest.fail("recomputed"))
    here = extract_many(tasks, config=config, cache_dir=tmp_path / "shared", n_jobs=1)  # this machine reads them
    for a, b, c in zip(first, again, here):
        assert all(np.array_equal(a[v], b[v]) and np.array_equal(a[v], c[v]) for v in VERSIONS)


def test_a_stop_cancels_the_clusters_work(cluster, tmp_path):
    from distributed import Client

    tasks = [ClipTask(str(p), VERSIONS) for p in CLIPS]
    with pytest.raises(Stopped, match=f"stopped after 1 of {len(tasks)} files"):
        extract_many(tasks, config=for_preset("quick"), use_cache=False, cluster=cluster, should_stop=lambda: True)
    with Client(cluster) as client:  # nothing of it is left queued or running
        assert not any(client.processing().values())
        assert not client.who_has()


def test_an_address_that_does_not_answer_is_one_clear_error(short_timeout):
    from ser.parallel.cluster import ClusterError

    with pytest.raises(ClusterError, match=rf"no Dask scheduler answers at {NOBODY} .*dask scheduler"):
        extract_many([ClipTask(str(p)) for p in CLIPS], config=for_preset("quick"), cluster=NOBODY)


def test_the_cli_refuses_a_cluster_that_does_not_answer_before_any_work(short_timeout, tmp_path, capsys,
                                                                         monkeypatch):
    from ser.__main__ import main

    labels = str(DEMO / "all_labels.csv")
    assert main(["train", "--labels", labels, "--out", str(tmp_path / "mine"), "--preset", "quick",
                 "--cluster", NOBODY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and NOBODY in err[0] and "--cluster" in err[0], err
    assert not (tmp_path / "mine").exists() and list(tmp_path.iterdir()) == []
    monkeypatch.setenv("SER_CLUSTER", NOBODY)
    assert main(["cv", "--labels", labels, "--preset", "quick", "--folds", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and NOBODY in err[0] and "SER_CLUSTER" in err[0], err


@pytest.fixture(scope="module")
def few_speakers(ravdess, tmp_path_factory):
    """48 real clips (6 speakers x 8 emotions x 1) and one feature cache for the cv tests."""
    root = tmp_path_factory.mktemp("cv")
    labels = make_subset(ravdess, root / "subset", speakers=[f"Actor_{i:02d}" for i in range(1, 7)], per_emotion=1)
    return labels, root / "cache"


def test_cv_folds_run_on_the_cluster_as_they_run_here(cluster, few_speakers, tmp_path):
    from ser.training.cv import cross_validate

    labels, cache = few_speakers
    config = for_preset("quick", epochs=2, augment=False)
    here = cross_validate(labels, config, n_folds=2, cache_dir=cache, out_dir=tmp_path / "here")
    seen = []
    there = cross_validate(labels, config, n_folds=2, cache_dir=cache, cluster=cluster,  # the workers read the
                           progress=seen.append, out_dir=tmp_path / "there")            # features made here
    assert [f["speakers"] for f in there["folds"]] == [f["speakers"] for f in here["folds"]]
    assert [f["epochs_run"] for f in there["folds"]] == [2, 2]
    assert there["test_speakers"] == here["test_speakers"]
    a, b = np.load(tmp_path / "there" / "cv_probs.npz"), np.load(tmp_path / "here" / "cv_probs.npz")
    assert list(a["paths"]) == list(b["paths"]) and list(a["y_true"]) == list(b["y_true"])
    assert a["probs"].shape == b["probs"].shape and np.allclose(a["probs"].sum(axis=1), 1, atol=1e-4)
    assert {e["fold"] for e in seen if e["stage"] == "epoch"} == {0, 1}  # each fold's epochs reach the caller
    assert [e["fold"] for e in seen if e["stage"] == "fold"] == [0, 1]


def _fold_like(job, *, progress, should_stop):
    """A stand-in for a cv fold: an event per "epoch" (20 a second for 30 s) until its stop turns true."""
    for epoch in range(1, 601):
        progress({"stage": "epoch", "epoch": epoch, "job": job})
        if should_stop():
            raise Stopped("stop requested")
        time.sleep(0.05)
    return job


def _short_job(job, *, progress, should_stop):
    progress({"stage": "batch"})  # not sent: one per batch is too many
    progress({"stage": "epoch", "epoch": 1})
    return job * 10


def test_jobs_on_the_cluster_come_back_in_order_with_their_events(cluster):
    from ser.parallel.cluster import run_in_order

    seen = []
    out = list(run_in_order(_short_job, [3, 1, 2], cluster=cluster, progress=lambda i, e: seen.append((i, e))))
    assert out == [(0, 30), (1, 10), (2, 20)]
    assert sorted(seen, key=lambda s: s[0]) == [(i, {"stage": "epoch", "epoch": 1}) for i in range(3)]


def test_a_stop_reaches_the_jobs_running_on_the_cluster(cluster):
    from distributed import Client

    from ser.parallel.cluster import run_in_order

    seen = []
    t0 = time.monotonic()
    with pytest.raises(Stopped, match="stop requested"):
        list(run_in_order(_fold_like, ["a", "b"], cluster=cluster, progress=lambda i, e: seen.append((i, e)),
                          should_stop=lambda: bool(seen)))
    assert time.monotonic() - t0 < 20  # each job would run 30 s: both saw the stop and ended
    with Client(cluster) as client:
        assert not any(client.processing().values())


def test_a_scheduler_without_workers_or_whose_workers_lack_ser_is_one_clear_error(short_timeout, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from distributed import LocalCluster

    from ser.parallel.cluster import ClusterError, checked_address

    with LocalCluster(n_workers=0, dashboard_address=None, silence_logs=logging.ERROR) as empty:
        address = empty.scheduler_address
        with pytest.raises(ClusterError, match=rf"the Dask scheduler at {address} has no workers.*dask worker"):
            checked_address(address)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # a worker started outside the checkout
        worker = subprocess.Popen([str(Path(sys.executable).with_name("dask")), "worker", address, "--nthreads", "1",
                                   "--no-dashboard"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            from distributed import Client

            with Client(address) as client:
                client.wait_for_workers(1, timeout=60)
            with pytest.raises(ClusterError, match=rf"workers at {address} cannot import ser.*PYTHONPATH"):
                checked_address(address)
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def test_a_scheduler_that_lacks_ser_is_one_clear_error(short_timeout, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    from ser.parallel.cluster import ClusterError, checked_address

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # started outside the checkout
    file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([str(Path(sys.executable).with_name("dask")), "scheduler", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(file)], cwd=tmp_path, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.monotonic()
        while not file.exists():
            assert time.monotonic() - t0 < 60 and scheduler.poll() is None, "the scheduler never started"
            time.sleep(0.2)
        time.sleep(0.5)
        address = json.loads(file.read_text())["address"]
        with pytest.raises(ClusterError, match=rf"the Dask scheduler at {address} cannot import ser.*PYTHONPATH"):
            checked_address(address)
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)


def test_a_dashboard_run_records_why_its_cluster_failed(short_timeout, tmp_path, capsys):
    from ser.__main__ import main
    from ser.training.runs import current_run

    models = tmp_path / "models"
    models.mkdir()
    staging = models / ".staging-mine"
    assert main(["train", "--labels", str(DEMO / "all_labels.csv"), "--out", str(models / "mine"), "--preset", "quick",
                 "--staging", str(staging), "--cluster", NOBODY]) == 2
    assert NOBODY in capsys.readouterr().err
    run = current_run(models)  # what the Train page reads: failed, with the one line
    assert run["status"] == "failed" and NOBODY in run["error"] and not (models / "mine").exists()


def test_the_robustness_report_of_a_training_runs_on_the_cluster_too(cluster, tmp_path, monkeypatch):
    """Training's last step, the test clips under every recording condition, is feature extraction too
    (11 versions of each test clip): given a cluster it runs there, with the same report as here."""
    import ser.features.engine
    from ser.datasets.labels import read_usable
    from ser.results.robustness import robustness_report
    from ser.serving.predict import Predictor
    from tests.conftest import DEFAULT_MODEL

    _, frame, _ = read_usable(DEMO / "all_labels.csv")
    frame = frame[frame["path"].str.contains("Actor_06|Actor_12")].groupby("speaker").head(3).reset_index(drop=True)
    predictor = Predictor.load(DEFAULT_MODEL)
    local = robustness_report(predictor, frame, cache_dir=tmp_path / "local")
    asked = []
    real = ser.features.engine.extract_many

    def spy(tasks, **kw):
        asked.append(kw.get("cluster"))
        return real(tasks, **kw)

    monkeypatch.setattr(ser.features.engine, "extract_many", spy)
    remote = robustness_report(predictor, frame, cache_dir=tmp_path / "shared", cluster=cluster)
    assert asked == [cluster]
    assert remote["conditions"] == local["conditions"]
