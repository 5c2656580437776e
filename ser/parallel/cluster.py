"""Work on a Dask cluster (`distributed`): many small jobs (clips) or a few long ones (cv folds).

Given a scheduler's address (``--cluster tcp://HOST:8786`` or ``$SER_CLUSTER``), :func:`connect` opens
a client, or says in one line that nothing answers there; :func:`each_done` yields jobs as they end;
:func:`run_in_order` runs long jobs on the workers while their progress events reach the caller and a
stop reaches them. Without an address nothing here is used and `ser` works on this machine alone
(:mod:`ser.parallel.workers`).

The workers import `ser` themselves: each machine runs ``dask worker`` from a checkout (or install) of
the same version with the same requirements, and reads the clips at the paths the caller names
(shared storage). Features are written to the cache folder each job is given: one content-addressed
folder on shared storage lets every worker and the caller reuse each other's matrices
(:mod:`ser.features.cache`).
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ser.errors import SerError, Stopped

__all__ = ["ClusterError", "cluster_address", "checked_address", "connect", "each_done", "run_in_order", "CLUSTER_ENV",
           "CONNECT_TIMEOUT_S"]

CLUSTER_ENV = "SER_CLUSTER"
CONNECT_TIMEOUT_S = 10  # a scheduler answers in well under a second; a wrong address fails in this time
_POLL_S = 0.25  # how often a wait looks at should_stop and forwards progress
_STOP_GRACE_S = 30.0  # how long running folds get to see a stop and end themselves before being cancelled


class ClusterError(SerError):
    """The Dask scheduler named by ``--cluster`` or ``$SER_CLUSTER`` cannot be reached."""


def cluster_address(explicit: str | None = None) -> str | None:
    """The scheduler to work on: ``explicit`` (``--cluster``), else ``$SER_CLUSTER``, else None (this
    machine). An empty value counts as none."""
    address = explicit if explicit is not None else os.environ.get(CLUSTER_ENV)
    return (address.strip() or None) if address else None


@contextlib.contextmanager
def connect(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``address``, closed on leaving.

    Raises
    ------
    ClusterError
        when no scheduler answers within :data:`CONNECT_TIMEOUT_S`, it has no workers, or a worker cannot
        import `ser`: one line naming the address and the fix
    """
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError):
        raise ClusterError(
            f"no Dask scheduler answers at {address} (waited {CONNECT_TIMEOUT_S} s): start one there with "
            f"`dask scheduler` and its workers with `dask worker {address} --nthreads 1`, or leave out --cluster "
            f"and {CLUSTER_ENV} to work on this machine.") from None
    try:
        _check_workers(client, address)
        yield client
    finally:
        client.close()


# Run on each worker by value (a lambda: cloudpickle sends its code), so it runs where `ser` is missing
_IMPORTS_SER = lambda: __import__("importlib.util").util.find_spec("ser") is not None  # noqa: E731


def _check_workers(client: Any, address: str) -> None:
    """The scheduler and every worker can import `ser` (the scheduler unpickles each job, a worker runs it:
    else every job fails with a traceback about deserialisation), and there is at least one worker."""
    if not client.run_on_scheduler(_IMPORTS_SER):
        raise ClusterError(f"the Dask scheduler at {address} cannot import ser, which it needs to read the jobs: "
                           f"start it from a checkout of the same version, e.g. "
                           f"`PYTHONPATH=/path/to/checkout dask scheduler`.")
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError):
        raise ClusterError(f"the Dask scheduler at {address} has no workers (none joined in {CONNECT_TIMEOUT_S} s): "
                           f"start them with `dask worker {address} --nthreads 1` from a checkout of ser.") from None
    lacking = sorted(w for w, ok in client.run(_IMPORTS_SER).items() if not ok)
    if lacking:
        raise ClusterError(f"{len(lacking)} of the workers at {address} cannot import ser (first: {lacking[0]}): "
                           f"start each from a checkout of the same version with its requirements, e.g. "
                           f"`PYTHONPATH=/path/to/checkout dask worker {address} --nthreads 1`.")


def checked_address(explicit: str | None = None) -> str | None:
    """:func:`cluster_address`, once its scheduler has answered (for a command to refuse before any work).

    Raises
    ------
    ClusterError
        when no scheduler answers there
    """
    address = cluster_address(explicit)
    if address:
        with connect(address):
            pass
    return address


def each_done(futures: Sequence[Any], *, idle: Callable[[], None] | None = None) -> Iterator[tuple[int, Any]]:
    """``(index, future)`` of each future as it ends, in the order they end; ``idle()`` is called while none
    does (every quarter second), so it can forward progress or raise :class:`ser.errors.Stopped`."""
    pending = dict(enumerate(futures))
    quiet_since = time.monotonic()
    while pending:
        done = [i for i, f in pending.items() if f.done()]  # the client's own view: no round trip
        for i in done:
            yield i, pending.pop(i)
        if done:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= _POLL_S:
            if idle:
                idle()
            quiet_since = time.monotonic()
        else:
            time.sleep(0.01)


def _remote_job(fn: Callable[..., Any], job: Any, channel: str, i: int) -> Any:
    """On a worker: ``fn(job, progress=..., should_stop=...)``, its progress events sent to the caller
    through a ``distributed.Queue`` and its stop read from a ``distributed.Event`` (at most twice a second)."""
    from distributed import Event, Queue

    events, stop = Queue(channel), Event(f"{channel}-stop")
    seen = {"at": 0.0, "stop": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if now - seen["at"] >= 0.5:
            seen.update(at=now, stop=stop.is_set())
        return seen["stop"]

    def progress(event: dict) -> None:
        stage = event.get("stage")
        if stage == "batch":  # one per batch: too many to send; epochs and folds are what a caller shows
            return
        if stage == "features" and event.get("step") != event.get("total") and event.get("step", 0) % 50:
            return
        events.put((i, event))

    return fn(job, progress=progress, should_stop=should_stop)


def run_in_order(fn: Callable[..., Any], jobs: Sequence[Any], *, cluster: str | None = None,
                 progress: Callable[[int, dict], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[int, Any]]:
    """``(i, fn(jobs[i], progress=..., should_stop=...))`` for each job, in the order of ``jobs``.

    Without ``cluster`` each job runs here in turn, its events passed to ``progress(i, event)`` as they
    come. With one, every job is submitted at once and runs on a worker (``fn`` and the jobs must pickle:
    a module-level function and plain data); the events of the jobs reach ``progress`` while the caller
    waits (per-batch events are not sent, feature events every 50 files), and when ``should_stop()``
    turns true the running jobs see their own ``should_stop()`` turn true, get some seconds to end, and
    are cancelled; :class:`ser.errors.Stopped` is raised. A job's error is raised here as it was there.
    """
    emit = progress or (lambda i, event: None)
    stop = should_stop or (lambda: False)
    if not cluster:
        for i, job in enumerate(jobs):
            yield i, fn(job, progress=lambda event, i=i: emit(i, event), should_stop=stop)
        return
    from distributed import Event, Queue

    with connect(cluster) as client:
        channel = f"ser-{uuid.uuid4().hex}"
        events, stopping = Queue(channel, client=client), Event(f"{channel}-stop", client=client)

        def forward() -> None:
            if events.qsize():
                for i, event in events.get(batch=True):
                    emit(i, event)

        def idle() -> None:
            forward()
            if stop():
                stopping.set()
                t0 = time.monotonic()
                while any(not f.done() for f in futures) and time.monotonic() - t0 < _STOP_GRACE_S:
                    time.sleep(_POLL_S)
                raise Stopped("stop requested")

        futures = [client.submit(_remote_job, fn, job, channel, i, pure=False) for i, job in enumerate(jobs)]
        try:
            for i, future in enumerate(futures):
                for _ in each_done([future], idle=idle):
                    pass
                forward()  # every event the job sent before it ended
                yield i, future.result()
        finally:
            client.cancel(futures, force=True)
            events.close()
