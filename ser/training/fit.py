"""The fit loop: ``ensemble_size`` networks (and ``summary_members`` summary networks) trained on a split's
features and saved as one model."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ser.config import Config
from ser.errors import Stopped
from ser.model_folder import ModelFolder
from ser.training.progress import ProgressFn

__all__ = ["fit", "corpus_emotion_masks", "balanced_weights"]


def fit(data: dict[str, dict[str, list]], config: Config, folder: Path, *, progress: ProgressFn | None = None,
        should_stop: Callable[[], bool] | None = None, export: bool = True) -> None:
    """Train ``ensemble_size`` members (seeds ``model_seed``, ``model_seed + 1``, ...), then ``summary_members``
    summary networks (:func:`ser.training.model.build_summary_model`, the next seeds), and save one model.

    Each member keeps its best epoch on the validation speakers; with several members the saved
    model averages their probabilities. Writes ``model.keras``, ``model.h5`` and ``history.csv``
    (one row per member and epoch) into ``folder``.

    Parameters
    ----------
    data : as :func:`ser.training.dataset.features_for_split` gives (``train`` and ``val`` are used)
    progress : receives ``batch`` and ``epoch`` events (see :mod:`ser.training.progress`)
    should_stop : polled after every batch; when true, :class:`ser.errors.Stopped` is raised and no
        model is saved
    export : write the ONNX export that prediction runs without TensorFlow; a model the converter
        cannot export is saved without one (an ``export`` event says why) and predicts with Keras
    """
    staging = Path(folder)
    emit = progress or (lambda event: None)
    stop = should_stop or (lambda: False)
    from ser.training import backend

    keras = backend.keras()
    import pandas as pd

    from ser.training.model import build_model, build_summary_model, compile_model, summary_layer

    t, f = config.train, config.features
    emotions = list(config.emotions)
    X_tr = np.stack(data["train"]["X"])
    X_va = np.stack(data["val"]["X"])
    y_tr = np.array([emotions.index(e) for e in data["train"]["y"]])
    y_va = np.array([emotions.index(e) for e in data["val"]["y"]])
    Y_tr = keras.utils.to_categorical(y_tr, len(emotions))
    Y_va = keras.utils.to_categorical(y_va, len(emotions))
    class_weight, weights_tr, weights_va, masked = None, None, None, None
    corpora_tr = [str(c) for c in data["train"].get("corpus") or [""] * len(y_tr)]
    if len(set(corpora_tr)) > 1:  # several corpora: each clip's loss over its corpus's emotions, corpora balanced
        corpora_va = [str(c) for c in data["val"].get("corpus") or [""] * len(y_va)]
        sets = corpus_emotion_masks(corpora_tr, y_tr, n_classes=len(emotions))
        Y_tr = np.concatenate([Y_tr, np.stack([sets[c] for c in corpora_tr])], axis=1)
        Y_va = np.concatenate([Y_va, np.stack([sets.get(c, np.ones(len(emotions), np.float32))
                                               for c in corpora_va])], axis=1)
        weights_tr = balanced_weights(corpora_tr, y_tr) if t.class_weights else None
        weights_va = balanced_weights(corpora_va, y_va) if t.class_weights else None
        masked = len(emotions)
    elif t.class_weights:
        counts = np.bincount(y_tr, minlength=len(emotions))
        present = counts > 0
        w = np.ones(len(emotions))
        w[present] = len(y_tr) / (present.sum() * counts[present])
        class_weight = {i: float(v) for i, v in enumerate(w)}
    n_steps = int(np.ceil(len(X_tr) / t.batch_size))
    base_seed = t.seed if t.model_seed is None else t.model_seed
    members, histories = [], []
    n_members = t.ensemble_size + t.summary_members
    for member in range(1, n_members + 1):
        keras.utils.set_random_seed(base_seed + member - 1)
        member_name = f"ser_{t.preset}_member{member}" if n_members > 1 else None
        if member > t.ensemble_size:
            model = build_summary_model(n_features=f.n_features, n_frames=f.max_frames, n_classes=len(emotions),
                                        train_features=X_tr, name=member_name and f"ser_summary_member{member}")
        else:
            model = build_model(t.preset, n_features=f.n_features, n_frames=f.max_frames, n_classes=len(emotions),
                                train_features=X_tr, input_dropout=t.input_dropout, dropout=t.dropout,
                                input_noise=t.input_noise, utterance_norm=t.utterance_norm, pooling=t.pooling,
                                frame_dropout=t.frame_dropout, raw_rows=t.raw_rows, name=member_name)
        compile_model(model, learning_rate=t.learning_rate, label_smoothing=t.label_smoothing, masked_classes=masked)
        model.fit(X_tr, Y_tr, sample_weight=weights_tr,
                  validation_data=(X_va, Y_va) if weights_va is None else (X_va, Y_va, weights_va),
                  epochs=t.epochs, batch_size=t.batch_size, shuffle=True, verbose=0, class_weight=class_weight,
                  callbacks=_callbacks(keras, staging, config, emit, stop, n_steps, member))
        if stop():
            raise Stopped("stop requested")
        checkpoint = staging / f"member{member}.keras"
        summary_layer()  # registered before loading a summary network
        members.append(keras.models.load_model(checkpoint, compile=False))  # best epoch, no optimizer state
        checkpoint.unlink()
        history = staging / f"history{member}.csv"
        histories.append(pd.read_csv(history).assign(member=member))
        history.unlink()
    from ser.csvsafe import write_csv

    folder = ModelFolder(staging)
    write_csv(pd.concat(histories), folder.history_file)
    if len(members) == 1:
        best = members[0]
    else:
        inputs = keras.Input(shape=members[0].input_shape[1:], name="features")
        outputs = keras.layers.Average(name="mean_probabilities")(
            [m(inputs) for m in members])
        best = keras.Model(inputs, outputs, name=f"ser_{t.preset}_x{len(members)}")
    best.save(folder.keras_file)
    best.save(folder.h5_file)
    if export:
        from ser.errors import ModelError
        from ser.serving.export import export_onnx

        emit({"stage": "export"})
        try:
            export_onnx(best, folder.onnx_file, source=folder.keras_file)
        except ModelError as exc:
            emit({"stage": "export", "warning": str(exc)})


def corpus_emotion_masks(corpora: list[str], y: np.ndarray, *, n_classes: int) -> dict[str, np.ndarray]:
    """Each corpus's emotions as a 0/1 mask of shape (n_classes,): those its training clips have.

    Parameters
    ----------
    corpora : the corpus of each clip
    y : np.ndarray of int, shape (n,): each clip's emotion index
    """
    masks: dict[str, np.ndarray] = {}
    for c, label in zip(corpora, y):
        masks.setdefault(c, np.zeros(n_classes, np.float32))[int(label)] = 1.0
    return masks


def balanced_weights(corpora: list[str], y: np.ndarray) -> np.ndarray:
    """A weight per clip so that every corpus counts the same, and every emotion the same within its corpus.

    Returns
    -------
    np.ndarray, shape (n,), mean 1
    """
    keys = list(zip(corpora, (int(v) for v in y)))
    counts: dict[tuple[str, int], int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    per_corpus = {c: sum(1 for (c2, _) in counts if c2 == c) for c in set(corpora)}
    w = np.array([1.0 / (len(per_corpus) * per_corpus[c] * counts[(c, e)]) for c, e in keys])
    return (w * len(w) / w.sum()).astype(np.float32)


def _callbacks(keras: Any, staging: Path, config: Config, progress: ProgressFn, should_stop, n_steps: int,
               member: int = 1):
    t = config.train
    where = {"member": member, "members": t.ensemble_size + t.summary_members}

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
