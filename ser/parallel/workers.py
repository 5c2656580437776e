"""Worker processes that die with their parent, and the stale ones left by older runs.

:func:`process_pool` is the process pool every parallel job of `ser` uses. Each worker

- asks Linux to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG)``) and, everywhere, watches
  its parent from a thread and exits when the parent is gone, so a ``kill -9`` of a training or of
  the dashboard never leaves workers running (each holds a few hundred MB);
- writes ``<pid>.json`` (its parent's pid and its own start time) into :func:`registry_dir` while it
  lives, so that :func:`stale_workers` finds workers whose parent is gone (for instance left by a
  machine that lost its watch) and :func:`stop_stale_workers` ends them.

A process id is given again once its process ended: a record counts only while the process with its
pid also started when the record says (``pid_started``, clock ticks since boot, as training runs are
checked in :mod:`ser.training.runs`), so "Stop them" never signals a process that merely reused a worker's pid.
A record without a start time (written by an older `ser`) cannot be told from a reused pid, and is
dropped rather than acted on.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["process_pool", "registry_dir", "stale_workers", "stop_stale_workers", "pid_alive"]

_PR_SET_PDEATHSIG = 1


def registry_dir() -> Path:
    """``$SER_WORKERS_DIR``, else ``<tmp>/ser-workers-<uid>``: one small file per live worker."""
    env = os.environ.get("SER_WORKERS_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"ser-workers-{os.getuid()}"


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True  # no /proc: trust os.kill


def _watch_parent(parent: int, interval_s: float) -> None:
    while True:
        time.sleep(interval_s)
        if os.getppid() != parent or not pid_alive(parent):
            os._exit(1)  # the parent is gone: nobody will ever read this worker's results


# Thread pools of numeric libraries (OpenBLAS, OpenMP, MKL, numba): one thread in each worker.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _one_thread_each() -> None:
    """The pool's processes are the parallelism: a worker whose BLAS also starts a thread per core
    oversubscribes the machine (measured: 40 clips' augmentation and features took 3.2 s on 2 workers
    with BLAS threads, 1.5 s without)."""
    for var in _THREAD_VARS:
        os.environ[var] = "1"  # libraries this worker loads from now on
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)  # and those its start-up already loaded
    except ImportError:
        pass


def _init_worker(parent: int, registry: str, interval_s: float) -> None:
    """Pool initializer: one numeric thread, die with the parent, and say so in the registry."""
    _one_thread_each()
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the watch was set
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, interval_s), daemon=True, name="parent-watch").start()
    folder = Path(registry)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        from ser.parallel.processes import process_started  # the one reader of a process's start time

        (folder / f"{os.getpid()}.json").write_text(json.dumps({"pid": os.getpid(), "parent": parent,
                                                                "started": time.time(),
                                                                "pid_started": process_started(os.getpid())}))
        import atexit

        atexit.register(lambda: (folder / f"{os.getpid()}.json").unlink(missing_ok=True))
    except OSError:
        pass  # the registry is a report, never a reason to fail


def process_pool(n_jobs: int, *, watch_interval_s: float = 1.0) -> ProcessPoolExecutor:
    """A spawn-based process pool whose workers die with this process, each on one numeric thread.

    Parameters
    ----------
    n_jobs : number of worker processes
    watch_interval_s : how often each worker checks that its parent still runs
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # safe whatever the parent imported (TensorFlow)
    return ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=_init_worker,
                               initargs=(os.getpid(), str(registry_dir()), watch_interval_s))


def _is_the_worker(record: dict[str, Any]) -> bool:
    """Whether the process with the record's pid is the worker that wrote it (same start time)."""
    from ser.parallel.processes import process_alive

    return process_alive(int(record["pid"]), int(record["pid_started"]))


def stale_workers(registry: str | Path | None = None) -> list[dict[str, Any]]:
    """Workers that still run although their parent is gone; records of ended workers are removed.

    A record whose pid now belongs to another process (its start time differs from ``pid_started``),
    or that has no start time, is an ended worker's: removed, never reported.

    Returns
    -------
    list of dicts with ``pid``, ``parent``, ``started`` (seconds since the epoch) and ``pid_started``
    """
    folder = Path(registry) if registry else registry_dir()
    stale = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(file.read_text())
            parent = int(record["parent"])
            alive = _is_the_worker(record)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            file.unlink(missing_ok=True)
            continue
        if not alive:
            file.unlink(missing_ok=True)
        elif not pid_alive(parent):
            stale.append(record)
    return stale


def _kill_if_same(record: dict[str, Any]) -> bool:
    """SIGKILL the record's worker only if the process with its pid still started when the record says.

    Where Linux has pidfds, the process is pinned first (``pidfd_open``), then its start time checked,
    then that very process signalled: a pid given to a new process in between is never hit.
    """
    pid = int(record["pid"])
    pinned = None
    try:
        pinned = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pass  # no pidfds: the check and the signal are as close together as they can be
    try:
        if not _is_the_worker(record):
            return False
        if pinned is not None:
            signal.pidfd_send_signal(pinned, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False
    finally:
        if pinned is not None:
            os.close(pinned)


def stop_stale_workers(registry: str | Path | None = None) -> int:
    """End every stale worker (SIGKILL), each only if its pid still has the recorded start time;
    returns how many were ended."""
    folder = Path(registry) if registry else registry_dir()
    n = 0
    for record in stale_workers(folder):
        n += _kill_if_same(record)
        (folder / f"{record['pid']}.json").unlink(missing_ok=True)
    return n
