"""Training: labels to a saved, evaluated model folder, installed atomically.

With ``ensemble_size`` above 1 (the ``default`` preset trains 3), several networks are
trained from different seeds on the same split, each keeping its best epoch, and the saved
model averages their probabilities.

The run works in a staging folder beside the target (``<parent>/.staging/<name>-<time>``)
and only a finished run replaces ``out_dir``: a failed, killed or stopped training leaves
whatever model was there untouched. The staging folder holds ``progress.jsonl`` from the
start, so another process can follow the run.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ser.config import Config
from ser.errors import SerError, Stopped, TrainingError
from ser.model_folder import ModelFolder
from ser.outputs import check_model_target
from ser.paths import check_name, portable
from ser.training.runs import install, prepare_staging
from ser.training.progress import ProgressFn

__all__ = ["train", "TrainResult", "score_test"]


@dataclass(frozen=True)
class TrainResult:
    """A finished run: the installed model, the staging folder it was made in, its test report."""

    model_dir: Path
    staging_dir: Path
    report: dict[str, Any] | None
    wall_s: float


def train(labels_csv: str | Path | list, out_dir: str | Path, config: Config | None = None, *,
          progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
          cache_dir: str | Path | None = None, staging: Path | None = None,
          command: str | None = None, cluster: str | None = None) -> TrainResult:
    """Train, evaluate on the held-out test split, and install the model at ``out_dir``.

    Parameters
    ----------
    labels_csv : path of an ``all_labels.csv``, or several (one per corpus: :mod:`ser.datasets.corpora`)
    out_dir : folder the finished model is installed at (replacing one there, only on success); it must be
        missing, empty or a model folder made by ser (:func:`ser.outputs.check_model_target`, else
        :class:`ser.errors.PathError` before any work)
    config : Config, optional
    progress : callback receiving progress events (see :mod:`ser.training.progress`)
    should_stop : polled between files and batches; when true the run ends by raising
        :class:`ser.errors.Stopped`, without installing anything.
    staging : the staging folder to work in (made if missing); default beside ``out_dir``
    cluster : a Dask scheduler's address (``tcp://HOST:8786``): the features are extracted on its workers
        (:func:`ser.features.engine.extract_many`); None: on this machine

    Returns
    -------
    TrainResult

    Raises
    ------
    ser.errors.Stopped
        when ``should_stop()`` turned true
    """
    from ser.training.dataset import features_for_split
    from ser.training.fit import fit
    from ser.datasets.corpora import emotion_sets, read_corpora, split_corpora
    from ser.datasets.labels import summarise_problems
    from ser.training.progress import JsonlWriter

    config = config or Config()
    csvs = [labels_csv] if isinstance(labels_csv, (str, Path)) else list(labels_csv)
    check_name(Path(out_dir).name, what="model folder name")
    out_dir = check_model_target(out_dir)  # PathError: a folder or file that is not a model made by ser
    staging = prepare_staging(out_dir, staging)
    folder = ModelFolder(staging)
    emit = JsonlWriter(folder.progress_file, also=progress)
    stop = should_stop or (lambda: False)
    t0 = time.time()
    try:
        # LabelsError: missing, empty, header only, no columns, no usable clip; a clip listed by two files
        labels, good, problems = read_corpora(csvs, require=True)
        t = config.train
        # LabelsError before any training when the clips cannot be evaluated honestly: fewer than two
        # emotions, too few clips of one, or a speaker split without enough speakers (never a silent clip split);
        # with several corpora, each corpus is split by its own speakers
        split = split_corpora(good, mode=t.split_mode, test_fraction=t.test_fraction,
                              val_fraction=t.val_fraction, seed=t.seed)
        split_mode = split.attrs["split_mode"]
        from ser.csvsafe import write_csv

        write_csv(split.drop(columns=["abspath"]), folder.split_file)  # speakers, names: as text
        config.save(folder.config_file)
        counts = split["split"].value_counts().to_dict()
        corpora = emotion_sets(split)
        emit({"stage": "start", "name": out_dir.name, "preset": t.preset, "labels": " + ".join(map(str, csvs)),
              "corpora": {name: list(emos) for name, emos in corpora.items()} if len(corpora) > 1 else None,
              "n_clips": len(good), "n_skipped": len(labels) - len(good), "skipped": summarise_problems(problems),
              "split_mode": split_mode, "speakers_overlap": split_mode == "clip", "counts": counts,
              "epochs": t.epochs})
        data, failed = features_for_split(split, config, cache_dir=cache_dir, progress=emit, should_stop=stop,
                                          cluster=cluster)
        if not data["train"]["X"] or not data["val"]["X"]:
            raise TrainingError("no training or validation clip could be read; check the labels with "
                                f"`python -m ser validate {csvs[0]}`.")
        fit(data, config, staging, progress=emit, should_stop=stop)
        from ser.training.encoder_head import fit_member

        fit_member(data, config, folder, emotion_sets=corpora)  # the encoder member: seconds, after the networks
        emit({"stage": "evaluate"})
        report = _evaluate_test(data["test"], config, staging, n_skipped=len(labels) - len(good) + len(failed),
                                split_mode=split_mode, emotion_sets=corpora)
        robustness = _robustness_test(split, staging, labels_csv=csvs[0], cache_dir=cache_dir, progress=emit,
                                      should_stop=stop, cluster=cluster) if report else None
        wall = time.time() - t0
        run = {"name": out_dir.name, "status": "done", "wall_s": round(wall, 1), "command": command,
               "machine": f"{platform.machine()} {os.cpu_count()} cores",  # no host name: the report shows it
               "python": platform.python_version(), "labels": portable(csvs[0]), "n_clips": len(good),
               "corpora": ({name: {"labels": portable(good.attrs["corpora"][name]), "emotions": list(emos),
                                   "n_clips": int((good["corpus"] == name).sum())}
                            for name, emos in corpora.items()} if len(corpora) > 1 else None),
               "failed_clips": failed[:50], "counts": counts, "split_mode": split_mode,
               "speakers_overlap": split_mode == "clip",
               "test_accuracy": report["accuracy"] if report else None,
               "test_macro_f1": report["macro_f1"] if report else None,
               "test_uar": report["uar"] if report else None,
               "robustness": {r["name"]: round(r["accuracy"], 4) for r in robustness["conditions"]}
               if robustness else None,
               "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        folder.run_file.write_text(json.dumps(run, indent=2) + "\n")
        emit({"stage": "done", "model_dir": str(out_dir), "wall_s": wall,
              "accuracy": run["test_accuracy"], "macro_f1": run["test_macro_f1"], "uar": run["test_uar"]})
        check_model_target(out_dir)  # again: hours may have passed, and the swap deletes what is there
        install(staging, out_dir)
        return TrainResult(out_dir, staging, report, wall)
    except Stopped:
        emit({"stage": "stopped"})
        raise
    except SerError as exc:
        emit({"stage": "failed", "error": str(exc)})
        raise
    except Exception as exc:
        emit({"stage": "failed", "error": f"{type(exc).__name__}: {exc}"})
        raise TrainingError(f"training {out_dir.name} failed: {type(exc).__name__}: {exc}") from exc


def score_test(model_dir: str | Path, *, cache_dir: str | Path | None = None,
               progress: ProgressFn | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score an installed model on its own test speakers again, as its training did, and write its
    ``report.json``, ``predictions.csv`` and ``robustness.json`` (after a change to how it predicts: an
    encoder member added).

    The test clips are those of its ``split.csv``, read from the folders its ``run.json`` names.

    Returns
    -------
    the test report and the robustness report

    Raises :class:`~ser.errors.ModelError` (:meth:`ser.model_folder.ModelFolder.split_clips`) when the test clips
    cannot be found, :class:`~ser.errors.TrainingError` when none of them can be read.
    """
    from ser.datasets.corpora import emotion_sets
    from ser.training.dataset import features_for_split

    folder = ModelFolder(model_dir)
    config, split, run = folder.config(), folder.split(), folder.run()
    test = folder.split_clips("test")  # ModelError, one line, when they cannot be found
    data, failed = features_for_split(test, config, cache_dir=cache_dir, progress=progress)
    mode = run.get("split_mode", "speaker")
    report = _evaluate_test(data["test"], config, folder.path, n_skipped=len(failed), split_mode=mode,
                            emotion_sets=emotion_sets(split))
    if report is None:
        raise TrainingError(f"{model_dir}: none of its test clips could be read (the first: "
                            f"{test['abspath'][0]}).")
    robustness = _robustness_test(test, folder.path, labels_csv=folder.training_labels(), cache_dir=cache_dir,
                                  progress=progress or (lambda e: None), should_stop=None)
    return report, robustness


def _robustness_test(split, staging: Path, *, labels_csv, cache_dir, progress: ProgressFn, should_stop,
                     cluster: str | None = None) -> dict[str, Any] | None:
    """The robustness report on the test clips, written as ``robustness.json`` beside the model."""
    from ser.serving.predict import Predictor
    from ser.results.robustness import robustness_report

    test = split[split["split"] == "test"].reset_index(drop=True)
    if test.empty:
        return None
    report = robustness_report(Predictor.load(staging), test, cache_dir=cache_dir, progress=progress,
                               should_stop=should_stop, cluster=cluster)
    report.update(split="test", labels=portable(labels_csv))
    ModelFolder(staging).robustness_file.write_text(json.dumps(report, indent=2) + "\n")
    return report


def _evaluate_test(test: dict[str, list], config: Config, staging: Path, *, n_skipped: int,
                   split_mode: str = "speaker", emotion_sets: dict | None = None) -> dict[str, Any] | None:
    from ser.results.evaluate import write_report
    from ser.serving.predict import Predictor

    if not test["X"]:
        return None
    predictor = Predictor.load(staging)
    from ser.training.encoder_head import rows

    probs = predictor.predict_features(np.stack(test["X"]), rows=rows(test, config))
    return write_report(staging, paths=test["path"], y_true=test["y"], probs=probs, emotions=config.emotions,
                        n_skipped=n_skipped, extra={"split": "test", "split_mode": split_mode,
                                                    "speakers_overlap": split_mode == "clip",
                                                    # test speakers normalised by their own unlabelled clips
                                                    **({"speaker_norm": True} if config.train.speaker_norm else {})},
                        corpora=test.get("corpus"), emotion_sets=emotion_sets)
