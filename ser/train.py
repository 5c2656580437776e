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
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ser.config import Config
from ser.errors import LabelsError, SerError, TrainingError
from ser.paths import check_name, portable
from ser.progress import ProgressFn

__all__ = ["train", "TrainResult", "staging_dir_for", "install"]


@dataclass(frozen=True)
class TrainResult:
    """How a run ended: ``status`` is ``done`` or ``stopped``; ``model_dir`` is set when done."""

    status: str
    model_dir: Path | None
    staging_dir: Path
    report: dict[str, Any] | None
    wall_s: float


class Stopped(Exception):
    """Raised inside a run when a stop was requested."""


def staging_dir_for(out_dir: Path) -> Path:
    """A new staging folder for ``out_dir``: ``<parent>/.staging/<name>-<date>-<time>-<pid>``.

    Raises :class:`~ser.errors.PathError` if the model folder's name is not one plain name.
    """
    name = check_name(Path(out_dir).name, what="model folder name")
    return Path(out_dir).parent / ".staging" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


def _owner_file(staging: Path) -> Path:
    """``<staging>.owner`` beside the staging folder: ``"<pid> <start time>"`` of the process training in it."""
    return staging.with_name(staging.name + ".owner")


def _in_use(staging: Path) -> bool:
    """Whether a live process works in ``staging``: the one its owner file names, or, before a run
    wrote one, the one whose id ends the folder's name (a dashboard that has just started it)."""
    from ser.runs import _alive

    try:
        pid, started = _owner_file(staging).read_text().split()
        return _alive(int(pid), None if started == "None" else int(started))
    except FileNotFoundError:
        return _alive(int(staging.name.rpartition("-")[2]))
    except (OSError, ValueError):
        return False


def _prepare_staging(out_dir: Path, staging: Path | None) -> Path:
    """Check the model folder's name, make the staging folder and mark it as this process's.

    Earlier staging folders of the *same* name (``<name>-<date>-<time>-<pid>``: failed or stopped
    tries) are deleted once no live process works in them; other names' folders are never touched.
    """
    from ser.runs import _started

    name = check_name(out_dir.name, what="model folder name")
    staging = staging or staging_dir_for(out_dir)
    staging.mkdir(parents=True, exist_ok=True)
    _owner_file(staging).write_text(f"{os.getpid()} {_started(os.getpid())}")
    earlier = re.compile(re.escape(name) + r"-\d{8}-\d{6}-\d+")
    for old in staging.parent.iterdir():
        if old != staging and earlier.fullmatch(old.name) and old.is_dir() and not old.is_symlink() \
                and not _in_use(old):
            shutil.rmtree(old, ignore_errors=True)
            _owner_file(old).unlink(missing_ok=True)
    return staging


def install(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging``; the old model is deleted only once the new one is in.

    Two renames (the old model to ``.trash``, the new one in) under the models folder's lock
    (:func:`ser.runs.models_lock`). A process killed between them leaves no model folder but
    its ``.trash`` copy, which :func:`ser.runs.recover` (run here first and by ``list_models``)
    moves back; killed after them, the ``.trash`` copy is deleted there too.
    """
    from ser.runs import TRASH, _recover_locked, models_lock

    staging, out_dir = Path(staging), Path(out_dir)
    check_name(out_dir.name, what="model folder name")
    with models_lock(out_dir.parent):
        _recover_locked(out_dir.parent)
        trash = None
        if out_dir.exists():
            trash = out_dir.parent / TRASH / f"{out_dir.name}-{time.time_ns()}"
            trash.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out_dir, trash)
        os.replace(staging, out_dir)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    _owner_file(staging).unlink(missing_ok=True)


def _features_for_split(split, config: Config, *, cache_dir, progress: ProgressFn, should_stop):
    """Stack features: training clips in every version (if augmenting), others original only.

    Babble noise for a training clip is made of other *training* speakers' clips only.
    """
    from ser.augment import VERSIONS, babble_pools
    from ser.features import Cancelled, ClipTask, extract_many

    train_versions = VERSIONS if config.augment.enabled else ("original",)
    is_train = (split["split"] == "train").to_numpy()
    train_rows = split[is_train]
    speakers = train_rows["speaker"].tolist() if "speaker" in split and split["speaker"].notna().all() else None
    pools = iter(babble_pools(train_rows["abspath"].tolist(), speakers, seed=config.train.seed)
                 if config.augment.enabled else [])
    tasks = [ClipTask(p, train_versions, next(pools, ())) if t else ClipTask(p, ("original",))
             for p, t in zip(split["abspath"], is_train)]
    try:
        results = extract_many(tasks, config=config, cache_dir=cache_dir, should_stop=should_stop,
                               progress=lambda d, t: progress({"stage": "features", "step": d, "total": t}))
    except Cancelled as exc:
        raise Stopped(str(exc)) from exc
    data: dict[str, dict[str, list]] = {s: {"X": [], "y": [], "path": []} for s in ("train", "val", "test")}
    failed = []
    for rec, res in zip(split.itertuples(index=False), results):
        if isinstance(res, Exception):
            failed.append((rec.path, str(res)))
            continue
        for version, feats in res.items():
            d = data[rec.split]
            d["X"].append(feats)
            d["y"].append(rec.emotion)
            d["path"].append(rec.path if version == "original" else f"{rec.path}#{version}")
    return data, failed


def _callbacks(keras: Any, staging: Path, config: Config, progress: ProgressFn, should_stop, n_steps: int,
               member: int = 1):
    t = config.train
    where = {"member": member, "members": t.ensemble_size}

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_no = epoch + 1
            self.t0 = time.time()
            self.last = 0.0

        def on_train_batch_end(self, batch, logs=None):
            now = time.time()
            if now - self.last >= 1.0 or batch + 1 == n_steps:
                self.last = now
                progress({"stage": "batch", "epoch": self.epoch_no, "epochs": t.epochs,
                          "step": batch + 1, "total": n_steps, **where})
            if should_stop():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            progress({"stage": "epoch", "epoch": epoch + 1, "epochs": t.epochs, "lr": lr,
                      "epoch_s": time.time() - self.t0, **where,
                      **{k: float(v) for k, v in logs.items() if k != "learning_rate"}})
            if should_stop():
                self.model.stop_training = True

    return [
        keras.callbacks.EarlyStopping(monitor=t.monitor, patience=t.patience_epochs, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor=t.monitor, factor=t.lr_factor, patience=t.lr_patience_epochs,
                                          min_lr=t.min_learning_rate),
        keras.callbacks.ModelCheckpoint(str(staging / f"member{member}.keras"), monitor=t.monitor,
                                        save_best_only=True),
        keras.callbacks.CSVLogger(str(staging / f"history{member}.csv")),
        Progress(),
    ]


def train(labels_csv: str | Path, out_dir: str | Path, config: Config | None = None, *,
          progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
          cache_dir: str | Path | None = None, staging: Path | None = None,
          command: str | None = None) -> TrainResult:
    """Train, evaluate on the held-out test split, and install the model at ``out_dir``.

    Parameters
    ----------
    labels_csv : path of an ``all_labels.csv``
    out_dir : folder the finished model is installed at (replacing one there, only on success)
    config : Config, optional
    progress : callback receiving progress events (see :mod:`ser.progress`)
    should_stop : polled between files and batches; when true the run ends as ``stopped``
        without installing anything.
    staging : the staging folder to work in (made if missing); default beside ``out_dir``

    Returns
    -------
    TrainResult
    """
    from ser.labels import read_usable, summarise_problems
    from ser.progress import JsonlWriter
    from ser.split import split_labels

    config = config or Config()
    out_dir = Path(out_dir)
    staging = _prepare_staging(out_dir, staging)
    emit = JsonlWriter(staging / "progress.jsonl", also=progress)
    stop = should_stop or (lambda: False)
    t0 = time.time()
    try:
        labels, good, problems = read_usable(labels_csv)  # LabelsError: missing, empty, header only, no columns
        if len(good) == 0:
            first = f" (first: {problems[0].path}: {problems[0].problem})" if problems else ""
            raise LabelsError(f"{labels_csv}: no usable clip; {summarise_problems(problems)}{first}.")
        t = config.train
        # LabelsError before any training when the clips cannot be evaluated honestly: fewer than two
        # emotions, too few clips of one, or a speaker split without enough speakers (never a silent clip split)
        split = split_labels(good, mode=t.split_mode, test_fraction=t.test_fraction,
                             val_fraction=t.val_fraction, seed=t.seed)
        split_mode = split.attrs["split_mode"]
        split.drop(columns=["abspath"]).to_csv(staging / "split.csv", index=False)
        config.save(staging / "config.json")
        counts = split["split"].value_counts().to_dict()
        emit({"stage": "start", "name": out_dir.name, "preset": t.preset, "labels": str(labels_csv),
              "n_clips": len(good), "n_skipped": len(labels) - len(good), "skipped": summarise_problems(problems),
              "split_mode": split_mode, "speakers_overlap": split_mode == "clip", "counts": counts,
              "epochs": t.epochs})
        data, failed = _features_for_split(split, config, cache_dir=cache_dir, progress=emit, should_stop=stop)
        if not data["train"]["X"] or not data["val"]["X"]:
            raise TrainingError("no training or validation clip could be read; check the labels with "
                                f"`python -m ser validate {labels_csv}`.")
        result = _fit(data, config, staging, emit, stop)
        if result == "stopped":
            raise Stopped("stop requested")
        emit({"stage": "evaluate"})
        report = _evaluate_test(data["test"], config, staging, n_skipped=len(labels) - len(good) + len(failed),
                                split_mode=split_mode)
        robustness = _robustness_test(split, staging, labels_csv=labels_csv, cache_dir=cache_dir, progress=emit, should_stop=stop) \
            if report else None
        wall = time.time() - t0
        run = {"name": out_dir.name, "status": "done", "wall_s": round(wall, 1), "command": command,
               "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
               "python": platform.python_version(), "labels": portable(labels_csv), "n_clips": len(good),
               "failed_clips": failed[:50], "counts": counts, "split_mode": split_mode,
               "speakers_overlap": split_mode == "clip",
               "test_accuracy": report["accuracy"] if report else None,
               "test_macro_f1": report["macro_f1"] if report else None,
               "test_uar": report["uar"] if report else None,
               "robustness": {r["name"]: round(r["accuracy"], 4) for r in robustness["conditions"]}
               if robustness else None,
               "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
        (staging / "run.json").write_text(json.dumps(run, indent=2) + "\n")
        emit({"stage": "done", "model_dir": str(out_dir), "wall_s": wall,
              "accuracy": run["test_accuracy"], "macro_f1": run["test_macro_f1"], "uar": run["test_uar"]})
        install(staging, out_dir)
        return TrainResult("done", out_dir, staging, report, wall)
    except Stopped:
        emit({"stage": "stopped"})
        return TrainResult("stopped", None, staging, None, time.time() - t0)
    except SerError as exc:
        emit({"stage": "failed", "error": str(exc)})
        raise
    except Exception as exc:
        emit({"stage": "failed", "error": f"{type(exc).__name__}: {exc}"})
        raise TrainingError(f"training {out_dir.name} failed: {type(exc).__name__}: {exc}") from exc


def _fit(data, config: Config, staging: Path, emit: ProgressFn, stop) -> str:
    """Train ``ensemble_size`` members (seeds ``model_seed``, ``model_seed + 1``, ...) and save one model.

    Each member keeps its best epoch on the validation speakers; with several members the saved
    model averages their probabilities. ``history.csv`` has one row per member and epoch.
    """
    from ser import backend

    keras = backend.keras()
    import pandas as pd

    from ser.model import build_model, compile_model

    t, f = config.train, config.features
    emotions = list(config.emotions)
    X_tr = np.stack(data["train"]["X"])
    X_va = np.stack(data["val"]["X"])
    y_tr = np.array([emotions.index(e) for e in data["train"]["y"]])
    y_va = np.array([emotions.index(e) for e in data["val"]["y"]])
    class_weight = None
    if t.class_weights:
        counts = np.bincount(y_tr, minlength=len(emotions))
        present = counts > 0
        w = np.ones(len(emotions))
        w[present] = len(y_tr) / (present.sum() * counts[present])
        class_weight = {i: float(v) for i, v in enumerate(w)}
    n_steps = int(np.ceil(len(X_tr) / t.batch_size))
    base_seed = t.seed if t.model_seed is None else t.model_seed
    members, histories = [], []
    for member in range(1, t.ensemble_size + 1):
        keras.utils.set_random_seed(base_seed + member - 1)
        model = build_model(t.preset, n_features=f.n_features, n_frames=f.max_frames, n_classes=len(emotions),
                            train_features=X_tr, input_dropout=t.input_dropout, dropout=t.dropout,
                            input_noise=t.input_noise, utterance_norm=t.utterance_norm, pooling=t.pooling,
                            frame_dropout=t.frame_dropout, raw_rows=t.raw_rows,
                            name=f"ser_{t.preset}_member{member}" if t.ensemble_size > 1 else None)
        compile_model(model, learning_rate=t.learning_rate, label_smoothing=t.label_smoothing)
        model.fit(X_tr, keras.utils.to_categorical(y_tr, len(emotions)),
                  validation_data=(X_va, keras.utils.to_categorical(y_va, len(emotions))),
                  epochs=t.epochs, batch_size=t.batch_size, shuffle=True, verbose=0, class_weight=class_weight,
                  callbacks=_callbacks(keras, staging, config, emit, stop, n_steps, member))
        if stop():
            return "stopped"
        checkpoint = staging / f"member{member}.keras"
        members.append(keras.models.load_model(checkpoint, compile=False))  # best epoch, no optimizer state
        checkpoint.unlink()
        history = staging / f"history{member}.csv"
        histories.append(pd.read_csv(history).assign(member=member))
        history.unlink()
    pd.concat(histories).to_csv(staging / "history.csv", index=False)
    if len(members) == 1:
        best = members[0]
    else:
        inputs = keras.Input(shape=members[0].input_shape[1:], name="features")
        outputs = keras.layers.Average(name="mean_probabilities")(
            [m(inputs) for m in members])
        best = keras.Model(inputs, outputs, name=f"ser_{t.preset}_x{len(members)}")
    best.save(staging / "model.keras")
    best.save(staging / "model.h5")
    return "done"


def _robustness_test(split, staging: Path, *, labels_csv, cache_dir, progress: ProgressFn, should_stop) -> dict[str, Any] | None:
    """The robustness report on the test clips, written as ``robustness.json`` beside the model."""
    from ser.features import Cancelled
    from ser.predict import Predictor
    from ser.robustness import ROBUSTNESS_FILE, robustness_report

    test = split[split["split"] == "test"].reset_index(drop=True)
    if test.empty:
        return None
    try:
        report = robustness_report(Predictor.load(staging), test, cache_dir=cache_dir, progress=progress,
                                   should_stop=should_stop)
    except Cancelled as exc:
        raise Stopped(str(exc)) from exc
    report.update(split="test", labels=portable(labels_csv))
    (staging / ROBUSTNESS_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _evaluate_test(test: dict[str, list], config: Config, staging: Path, *, n_skipped: int,
                   split_mode: str = "speaker") -> dict[str, Any] | None:
    from ser.evaluate import write_report
    from ser.predict import Predictor

    if not test["X"]:
        return None
    predictor = Predictor.load(staging)
    probs = predictor.predict_features(np.stack(test["X"]))
    return write_report(staging, paths=test["path"], y_true=test["y"], probs=probs, emotions=config.emotions,
                        n_skipped=n_skipped, extra={"split": "test", "split_mode": split_mode,
                                                    "speakers_overlap": split_mode == "clip"})
