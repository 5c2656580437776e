"""Every app test runs against a models folder of its own (a copy of the shipped model), never the
project's `models/`, and never leaves a background training running after it."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from tests.conftest import DEFAULT_MODEL


@pytest.fixture(autouse=True)
def full_error_details():
    """Visitors see no error details (.streamlit/config.toml); a failing test shows the whole error."""
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")


@pytest.fixture(autouse=True)
def own_datasets_folder(tmp_path_factory, monkeypatch):
    """Datasets made in the browser go to a folder of the test's own, never the project's data/."""
    folder = tmp_path_factory.mktemp("app-datasets")
    monkeypatch.setenv("SER_DATASETS_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def own_models_folder(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("app-models")
    shutil.copytree(DEFAULT_MODEL, folder / "default")
    monkeypatch.setenv("SER_MODELS_DIR", str(folder))
    yield folder
    reap_trainings(folder)


def reap_trainings(folder) -> None:
    """Stop and end the background training a test started in ``folder`` (its whole process group)."""
    from ser.training.runs import current_run, request_stop
    from ser.parallel.workers import pid_alive

    run = current_run(folder)
    if not run or not run.get("running"):
        return
    request_stop(folder)
    pid = int(run["pid"])
    t0 = time.time()
    while pid_alive(pid) and time.time() - t0 < 10:
        time.sleep(0.2)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)  # started with its own session: the group is the run
        except ProcessLookupError:
            pass
        t0 = time.time()  # SIGKILL is delivered asynchronously: on a busy machine the process lingers a moment
        while pid_alive(pid) and time.time() - t0 < 10:
            time.sleep(0.1)
