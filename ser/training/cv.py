"""Speaker cross-validation: compare settings on many held-out voices, never the test speakers.

A single training run is judged on its few validation speakers, which is a noisy way to choose
between close settings. :func:`cross_validate` first sets aside the test speakers of the run's
own split (the ones a trained model is scored on), then splits the remaining speakers into
``n_folds`` groups. Each fold trains on the other groups (augmented) and is scored on its own
group (originals only), which also drives early stopping. The pooled predictions over all folds
give one accuracy and macro F1 over every non-test speaker.

The folds are independent trainings: given a Dask scheduler (``cluster``), each runs on a worker
(:func:`ser.parallel.cluster.run_in_order`), its epochs reported here as they end; otherwise one after
the other on this machine.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ser.config import Config
from ser.errors import LabelsError, Stopped
from ser.model_folder import ModelFolder
from ser.training.progress import ProgressFn

__all__ = ["cross_validate", "cross_validate_corpora", "speaker_folds"]


def speaker_folds(speakers: np.ndarray, emotions: np.ndarray, *, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..n_folds-1) of each clip; every speaker's clips share one fold.

    Parameters
    ----------
    speakers, emotions : np.ndarray, shape (n,)
    n_folds : int, at least 2 and at most the number of speakers

    Returns
    -------
    np.ndarray of int, shape (n,)
    """
    from sklearn.model_selection import StratifiedGroupKFold

    n_speakers = len(np.unique(speakers))
    if not 2 <= n_folds <= n_speakers:
        raise LabelsError(f"n_folds={n_folds} needs between 2 and {n_speakers} (the number of speakers).")
    fold = np.full(len(speakers), -1)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, held) in enumerate(splitter.split(np.zeros(len(speakers)), emotions, speakers)):
        fold[held] = k
    return fold


def _speaker_fold(job: tuple[int, pd.DataFrame, Config, str | Path | None], *, progress: ProgressFn,
                  should_stop: Callable[[], bool]) -> dict[str, Any]:
    """One fold of :func:`cross_validate` (here or on a worker): train on the ``train`` rows of its part,
    scored on its ``val`` rows; the validation probabilities, history and clips."""
    from ser.serving.predict import Predictor
    from ser.training.dataset import features_for_split
    from ser.training.encoder_head import fit_member, rows
    from ser.training.fit import fit

    k, part, config, cache_dir = job
    data, _ = features_for_split(part, config, cache_dir=cache_dir, should_stop=should_stop, progress=progress)
    with tempfile.TemporaryDirectory(prefix=f"ser-cv-{k}-") as tmp:
        config.save(ModelFolder(tmp).config_file)
        fit(data, config, Path(tmp), progress=progress, should_stop=should_stop)
        fit_member(data, config, ModelFolder(tmp))
        probs = Predictor.load(tmp).predict_features(np.stack(data["val"]["X"]), rows=rows(data["val"], config))
        history = ModelFolder(tmp).history_file.read_text()
    return {"probs": probs, "history": history, "y": data["val"]["y"], "path": data["val"]["path"]}


def cross_validate(labels_csv: str | Path | Sequence[str | Path], config: Config | None = None, *, n_folds: int = 4,
                   cache_dir: str | Path | None = None, progress: ProgressFn | None = None,
                   should_stop: Callable[[], bool] | None = None, out_dir: str | Path | None = None,
                   cluster: str | None = None) -> dict[str, Any]:
    """Cross-validate ``config`` over the non-test speakers of ``labels_csv``.

    Parameters
    ----------
    labels_csv : path of an ``all_labels.csv`` with speakers, or several (speakers namespaced by corpus)
    config : Config, optional
        Its ``train.seed`` fixes both the test speakers set aside and the folds.
    n_folds : int
    out_dir : folder for ``cv.json`` and ``cv_probs.npz`` (pooled probabilities), optional
    should_stop : polled between files and batches; when true, :class:`ser.errors.Stopped` is raised
    cluster : a Dask scheduler's address: each fold trains on one of its workers (``cache_dir`` then names
        the workers' cache folder, shared storage); None: the folds run here one after the other

    Returns
    -------
    dict with ``accuracy``, ``macro_f1`` (pooled), ``folds`` (per-fold scores and best epochs),
    ``test_speakers`` (excluded) and ``wall_s``.
    """
    from ser.results.evaluate import report_from_predictions
    from ser.datasets.corpora import read_corpora, split_corpora
    from ser.parallel.cluster import run_in_order

    config = config or Config()
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    t0 = time.time()
    _, good, _ = read_corpora(labels_csv, require=True)  # LabelsError: no usable clip
    split = split_corpora(good, mode="speaker", test_fraction=config.train.test_fraction,
                          val_fraction=config.train.val_fraction, seed=config.train.seed)
    test_speakers = sorted(split.loc[split["split"] == "test", "speaker"].astype(str).unique())
    pool = split[split["split"] != "test"].reset_index(drop=True)
    folds = speaker_folds(pool["speaker"].astype(str).to_numpy(), pool["emotion"].to_numpy(),
                          n_folds=n_folds, seed=config.train.seed)
    emotions = list(config.emotions)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    all_paths: list[str] = []
    all_true: list[str] = []
    all_probs: list[np.ndarray] = []
    fold_results = []
    parts = [pool.assign(split=np.where(folds == k, "val", "train")) for k in range(n_folds)]
    jobs = [(k, part, config, cache_dir) for k, part in enumerate(parts)]
    with contextlib.closing(run_in_order(_speaker_fold, jobs, cluster=cluster, should_stop=stop,
                                         progress=lambda k, e: emit({**e, "fold": k}))) as runs:
        for k, part in enumerate(parts):
            try:
                run = next(runs)[1]
            except Stopped as exc:
                raise Stopped(f"cross-validation stopped in fold {k + 1} of {n_folds}: {exc}") from exc
            probs, history = run["probs"], run["history"]
            if out is not None:
                (out / f"history_fold{k}.csv").write_text(history)
            rep = report_from_predictions(run["y"], [emotions[i] for i in probs.argmax(1)], emotions=emotions)
            fold_speakers = sorted(part.loc[part["split"] == "val", "speaker"].astype(str).unique())
            fold_results.append({"fold": k, "speakers": fold_speakers, "accuracy": rep["accuracy"],
                                 "macro_f1": rep["macro_f1"], "epochs_run": len(history.splitlines()) - 1})
            emit({"stage": "fold", **fold_results[-1]})
            all_paths += run["path"]
            all_true += run["y"]
            all_probs.append(probs)
    probs = np.concatenate(all_probs)
    pooled = report_from_predictions(all_true, [emotions[i] for i in probs.argmax(1)], emotions=emotions)
    result = {"accuracy": pooled["accuracy"], "macro_f1": pooled["macro_f1"],
              "recall": {e: pooled["per_class"][e]["recall"] for e in emotions},
              "folds": fold_results, "test_speakers": test_speakers, "n_folds": n_folds,
              "wall_s": round(time.time() - t0, 1), "config": config.to_dict()}
    if out is not None:
        (out / "cv.json").write_text(json.dumps(result, indent=2) + "\n")
        np.savez_compressed(out / "cv_probs.npz", probs=probs, paths=np.array(all_paths), y_true=np.array(all_true))
    return result


def _corpus_fold(job: tuple[int, pd.DataFrame, Config, str | Path | None], *, progress: ProgressFn,
                 should_stop: Callable[[], bool]) -> dict[str, Any]:
    """One held-out corpus of :func:`cross_validate_corpora` (here or on a worker): train on the ``train``
    rows (``val`` for early stopping), score the ``test`` rows; their probabilities, history and clips."""
    from ser.serving.predict import Predictor
    from ser.training.dataset import features_for_split
    from ser.training.encoder_head import fit_member, rows
    from ser.training.fit import fit

    k, both, config, cache_dir = job
    data, _ = features_for_split(both, config, cache_dir=cache_dir, should_stop=should_stop, progress=progress)
    with tempfile.TemporaryDirectory(prefix=f"ser-loco-{k}-") as tmp:
        config.save(ModelFolder(tmp).config_file)
        fit(data, config, Path(tmp), progress=progress, should_stop=should_stop, export=False)
        fit_member(data, config, ModelFolder(tmp))
        probs = Predictor.load(tmp, runtime="keras").predict_features(np.stack(data["test"]["X"]),
                                                                        rows=rows(data["test"], config))
        history = ModelFolder(tmp).history_file.read_text()
    return {"probs": probs, "history": history, "y": data["test"]["y"], "path": data["test"]["path"]}


def cross_validate_corpora(labels_csvs: Sequence[str | Path], config: Config | None = None, *,
                           cache_dir: str | Path | None = None, progress: ProgressFn | None = None,
                           should_stop: Callable[[], bool] | None = None,
                           out_dir: str | Path | None = None, cluster: str | None = None) -> dict[str, Any]:
    """Leave one corpus out: train on every corpus but one, score the one left out, for each in turn.

    Each training uses all clips of its corpora, split by speaker within each corpus into training and
    validation (the validation speakers drive early stopping; :func:`ser.datasets.corpora.split_corpora`, its test
    part joining validation). The held-out corpus is scored on its clips of the emotions that it and the
    training corpora share: macro F1 and UAR of the open answer over those emotions, and UAR of the answer
    restricted to them. Settings are chosen by these, never by test speakers. With ``cluster`` (a Dask
    scheduler's address) each training runs on one of its workers.

    Returns
    -------
    dict with ``corpora`` (one entry per held-out corpus: ``macro_f1``, ``uar``, ``uar_restricted``,
    ``emotions`` shared, ``n_clips``, ``top_answer_share``, ``epochs_run``) and ``wall_s``
    """
    from ser.datasets.corpora import corpora_of, read_corpora, split_corpora
    from ser.parallel.cluster import run_in_order
    from ser.results.evaluate import report_from_predictions, restricted_scores

    config = config or Config()
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    t0 = time.time()
    if len(labels_csvs) < 2:
        raise LabelsError("leaving one corpus out needs at least two labels files (--labels A --labels B).")
    _, good, _ = read_corpora(labels_csvs, require=True)
    names = corpora_of(good)
    emotions = list(config.emotions)
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    results = {}
    jobs, shared_of = [], {}
    for k, held in enumerate(names):
        rest = good[good["corpus"] != held].reset_index(drop=True)
        rest.attrs.update(good.attrs)
        part = split_corpora(rest, mode="speaker", test_fraction=config.train.test_fraction,
                             val_fraction=config.train.val_fraction, seed=config.train.seed)
        part["split"] = part["split"].replace({"test": "val"})
        target = good[good["corpus"] == held].reset_index(drop=True).assign(split="test")
        shared_of[held] = [e for e in emotions if e in set(target["emotion"]) and e in set(part["emotion"])]
        target = target[target["emotion"].isin(shared_of[held])].reset_index(drop=True)
        jobs.append((k, pd.concat([part, target[part.columns.intersection(target.columns)]], ignore_index=True),
                     config, cache_dir))
    with contextlib.closing(run_in_order(_corpus_fold, jobs, cluster=cluster, should_stop=stop,
                                         progress=lambda k, e: emit({**e, "fold": k, "held_out": names[k]}))) as runs:
        for k, held in enumerate(names):
            tag, shared = {"fold": k, "held_out": held}, shared_of[held]
            try:
                run = next(runs)[1]
            except Stopped as exc:
                raise Stopped(f"leave-one-corpus-out stopped at {held}: {exc}") from exc
            probs, history, y = run["probs"], run["history"], run["y"]
            pred = [emotions[i] for i in probs.argmax(1)]
            rep = report_from_predictions(y, pred, emotions=emotions)
            top = max(set(pred), key=pred.count)
            results[held] = {"emotions": shared, "n_clips": len(y), "macro_f1": rep["macro_f1"], "uar": rep["uar"],
                             "uar_restricted": restricted_scores(y, probs, emotions=emotions, among=shared)["uar"],
                             "top_answer": top, "top_answer_share": pred.count(top) / len(pred),
                             "trained_on": [n for n in names if n != held],
                             "epochs_run": len(history.splitlines()) - 1}
            emit({"stage": "fold", **tag, **{k2: v for k2, v in results[held].items() if k2 != "emotions"}})
            if out is not None:
                (out / f"history_{held}.csv").write_text(history)
                np.savez_compressed(out / f"probs_{held}.npz", probs=probs, paths=np.array(run["path"]),
                                    y_true=np.array(y))
    result = {"by": "corpus", "corpora": results, "wall_s": round(time.time() - t0, 1), "config": config.to_dict()}
    if out is not None:
        (out / "cv.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
