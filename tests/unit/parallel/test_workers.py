"""Feature workers die with their parent (kill -9 included); stale ones are found and ended."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ser.parallel.workers import pid_alive, stale_workers, stop_stale_workers
from tests.conftest import REPO

PARENT = """
import sys
from pathlib import Path
from ser.config import for_preset
from ser.features.clips import ClipTask
from ser.features.engine import extract_many
clips = sorted(Path(sys.argv[1]).rglob("*.wav"))[:60]
tasks = [ClipTask(str(p), ("original", "stretch", "pitch")) for p in clips]
print("started", flush=True)
extract_many(tasks, config=for_preset("quick"), use_cache=False, n_jobs=2)
"""


def _pool_children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == parent and b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            found.append(int(stat.parent.name))
    return found


def test_kill_9_of_the_parent_ends_its_workers(ravdess, tmp_path):
    env = dict(os.environ, SER_WORKERS_DIR=str(tmp_path / "workers"), PYTHONPATH=str(REPO))
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(ravdess / "Actor_01")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    assert parent.stdout.readline().strip() == b"started"
    t0 = time.time()
    while len(workers := _pool_children(parent.pid)) < 2:
        assert time.time() - t0 < 60 and parent.poll() is None, "the pool never started"
        time.sleep(0.2)
    time.sleep(1.0)  # the workers are busy extracting
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    t0 = time.time()
    while any(pid_alive(w) for w in workers) and time.time() - t0 < 10:
        time.sleep(0.2)
    alive = [w for w in workers if pid_alive(w)]
    for w in alive:
        os.kill(w, signal.SIGKILL)  # do not leave them to the rest of the test run
    assert alive == [], f"workers {alive} outlived their parent"


def test_stale_workers_are_reported_and_ended(tmp_path):
    import json

    from ser.parallel.processes import process_started

    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    folder = tmp_path / "workers"
    folder.mkdir()
    (folder / f"{orphan.pid}.json").write_text(json.dumps({"pid": orphan.pid, "parent": gone.pid, "started": 0,
                                                            "pid_started": process_started(orphan.pid)}))
    (folder / f"{gone.pid}.json").write_text(json.dumps({"pid": gone.pid, "parent": os.getpid(), "started": 0}))
    (folder / "junk.json").write_text("not json")
    assert [r["pid"] for r in stale_workers(folder)] == [orphan.pid]
    assert sorted(p.name for p in folder.iterdir()) == [f"{orphan.pid}.json"]  # ended and junk records pruned
    assert stop_stale_workers(folder) == 1
    assert orphan.wait(timeout=10) == -signal.SIGKILL
    assert stale_workers(folder) == [] and not any(folder.iterdir())


def test_a_live_parents_workers_are_not_stale(tmp_path):
    import json

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        from ser.parallel.processes import process_started

        (tmp_path / f"{child.pid}.json").write_text(json.dumps({"pid": child.pid, "parent": os.getpid(),
                                                                "started": 0, "pid_started": process_started(child.pid)}))
        assert stale_workers(tmp_path) == []
        assert (tmp_path / f"{child.pid}.json").is_file()  # kept: the worker runs, its parent too
    finally:
        child.kill()
        child.wait()


def test_a_reused_pid_is_never_signalled(tmp_path):
    """The record's worker ended and its pid went to another process: the start times differ (issue 22, item 13)."""
    import json

    from ser.parallel.processes import process_started

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # got the worker's old pid
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        (tmp_path / f"{other.pid}.json").write_text(json.dumps({"pid": other.pid, "parent": gone.pid, "started": 0,
                                                                "pid_started": process_started(other.pid) - 1}))
        assert stale_workers(tmp_path) == []
        assert stop_stale_workers(tmp_path) == 0
        assert other.poll() is None, "a process that is not the worker was killed"
        assert not any(tmp_path.iterdir())  # the record of the ended worker is pruned
    finally:
        other.kill()
        other.wait()


def test_a_worker_records_its_start_time(tmp_path, monkeypatch):
    import json

    from ser.parallel.processes import process_started
    from ser.parallel.workers import process_pool

    monkeypatch.setenv("SER_WORKERS_DIR", str(tmp_path))
    with process_pool(1) as pool:
        pid = pool.submit(os.getpid).result(timeout=120)
        record = json.loads((tmp_path / f"{pid}.json").read_text())
        assert record["pid"] == pid and record["pid_started"] == process_started(pid)
