"""Features for many clips at once: on all cores of this machine (a process pool whose workers die
with their parent), or on the workers of a Dask cluster when given one (:mod:`ser.parallel.cluster`)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from pathlib import Path

import numpy as np

from ser.config import Config
from ser.errors import Stopped
from ser.features.cache import FeatureCache
from ser.features.clips import ClipTask, clip_features

__all__ = ["extract_many", "ProgressFn"]

ProgressFn = Callable[[int, int], None]


def _worker(args: tuple[ClipTask, dict, str | None, bool]) -> dict[str, np.ndarray]:
    task, config_dict, cache_dir, use_cache = args
    return clip_features(task, config=Config.from_dict(config_dict), cache_dir=cache_dir, use_cache=use_cache)


def extract_many(tasks: Sequence[ClipTask], *, config: Config, cache_dir: str | Path | None = None,
                 use_cache: bool = True, n_jobs: int | None = None,
                 progress: ProgressFn | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 cluster: str | None = None) -> list[dict[str, np.ndarray] | Exception]:
    """Features for many files on all cores, or on a Dask cluster, in the order of ``tasks``.

    A file that fails gives its :class:`~ser.errors.SerError` in its place instead of
    stopping the rest. ``progress(done, total)`` is called after each file. When
    ``should_stop()`` turns true, pending files are cancelled and :class:`ser.errors.Stopped` is raised.

    With ``cluster`` (a scheduler's address, ``tcp://HOST:8786``) every file is a job of the cluster's
    workers, which write their matrices into ``cache_dir`` (each worker's own default cache when None:
    its ``$SER_CACHE_DIR``); the features are the very same numbers as here. A process that may not
    start a pool (a daemonic one, such as a Dask worker running a cv fold) works through its files itself.

    Raises
    ------
    ser.parallel.cluster.ClusterError
        when no scheduler answers at ``cluster``
    """
    from ser.errors import SerError

    total = len(tasks)
    results: list[dict[str, np.ndarray] | Exception] = [RuntimeError("not run")] * total
    n_jobs = n_jobs or os.cpu_count() or 1
    cache_arg = str(cache_dir) if cache_dir else None
    if progress:
        progress(0, total)
    if cluster:
        results = _on_cluster(tasks, cluster=cluster, config=config, cache_dir=cache_arg, use_cache=use_cache,
                              progress=progress, should_stop=should_stop)
        if use_cache:
            FeatureCache(cache_dir).prune()
        return results
    if multiprocessing.current_process().daemon:
        n_jobs = 1  # a daemonic process may not have children
    if n_jobs == 1 or total < 4:
        for i, task in enumerate(tasks):
            try:
                results[i] = clip_features(task, config=config, cache_dir=cache_arg, use_cache=use_cache)
            except SerError as exc:
                results[i] = exc
            if progress:
                progress(i + 1, total)
            if should_stop and should_stop():
                raise Stopped(f"stopped after {i + 1} of {total} files")
        if use_cache:
            FeatureCache(cache_dir).prune()
        return results
    from ser.parallel.workers import process_pool

    config_dict = config.to_dict()
    pool = process_pool(n_jobs)  # workers die with this process, even on kill -9
    try:
        futures = {pool.submit(_worker, (t, config_dict, cache_arg, use_cache)): i for i, t in enumerate(tasks)}
        for done, fut in enumerate(as_completed(futures), start=1):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except SerError as exc:
                results[i] = exc
            if progress:
                progress(done, total)
            if should_stop and should_stop():
                raise Stopped(f"stopped after {done} of {total} files")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if use_cache:
        FeatureCache(cache_dir).prune()  # bounded: least recently used matrices go first
    return results


def _on_cluster(tasks: Sequence[ClipTask], *, cluster: str, config: Config, cache_dir: str | None, use_cache: bool,
                progress: ProgressFn | None,
                should_stop: Callable[[], bool] | None) -> list[dict[str, np.ndarray] | Exception]:
    """:func:`extract_many`'s jobs on the workers of the scheduler at ``cluster``; unfinished ones are
    cancelled when ``should_stop()`` turns true or anything fails."""
    from ser.errors import SerError
    from ser.parallel.cluster import connect, each_done

    total = len(tasks)
    results: list[dict[str, np.ndarray] | Exception] = [RuntimeError("not run")] * total
    config_dict = config.to_dict()
    with connect(cluster) as client:
        futures = client.map(_worker, [(t, config_dict, cache_dir, use_cache) for t in tasks], pure=False)
        try:
            for done, (i, fut) in enumerate(each_done(futures), start=1):
                try:
                    results[i] = fut.result()
                except SerError as exc:
                    results[i] = exc
                futures[i] = None  # its result is here: the cluster may forget it
                if progress:
                    progress(done, total)
                if should_stop and should_stop():
                    raise Stopped(f"stopped after {done} of {total} files")
        finally:
            client.cancel([f for f in futures if f is not None], force=True)
    return results
