"""Feature workers die with their parent (kill -9 included); stale ones are found and ended."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ser.workers import pid_alive, stale_workers, stop_stale_workers
from tests.conftest import REPO

PARENT = """
import sys
from pathlib import Path
from ser.config import for_preset
from ser.features import ClipTask, extract_many
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

    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    folder = tmp_path / "workers"
    folder.mkdir()
    (folder / f"{orphan.pid}.json").write_text(json.dumps({"pid": orphan.pid, "parent": gone.pid, "started": 0}))
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
        (tmp_path / f"{child.pid}.json").write_text(json.dumps({"pid": child.pid, "parent": os.getpid(),
                                                                "started": 0}))
        assert stale_workers(tmp_path) == []
    finally:
        child.kill()
        child.wait()
