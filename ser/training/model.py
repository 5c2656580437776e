"""Model presets, all built by :func:`build_model`.

- ``seed``: the architecture of the original notebook: three blocks of two Conv2D + batch
  norm, max pooling and dropout over the (182, frames) image; BiLSTM 256 (sequences) and
  BiLSTM 128 over time; Dense 256 + batch norm + dropout; softmax. Adam 5e-5.
- ``default``: the same family designed for a 2-core CPU: the convolutions run over time
  with the 182 feature rows as channels (Conv1D), pooling halves time twice before two
  bidirectional LSTMs (64 then 32 units), then a small dense head. Training averages three
  of these (``TrainConfig.ensemble_size``, see :mod:`ser.training.train`).
- ``quick``: a smaller ``default`` for demos and tests.
- summary networks (``TrainConfig.summary_members``, three in ``default``): each feature row's
  mean, spread and frame-to-frame change over the clip (:func:`summary_layer`), then one dense layer. They
  never see the order of frames, so they cannot learn a corpus's sentences. Measured (issue 19, leave one
  corpus out with ``ser cv --by corpus``, one network of each kind against one ``default`` network alone):
  held-out corpora 0.259 macro F1 against 0.206; on the validation speakers of a full training a tie.

Every preset starts with a ``Normalization`` layer adapted to the training features, so
a saved model is self-contained: it takes raw feature matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pathlib import Path

from ser.config import PRESETS
from ser.errors import ConfigError, ModelError

__all__ = ["build_model", "build_summary_model", "summary_layer", "compile_model", "load_saved_model", "model_files",
           "masked_crossentropy", "masked_accuracy"]


_SUMMARY_LAYER: list[Any] = []


def summary_layer() -> Any:
    """The Keras layer class ``TemporalSummary``: (batch, frames, rows) to (batch, 3 * rows), each row's mean,
    standard deviation and the standard deviation of its frame-to-frame difference over the frames.

    Registered with Keras (``ser>TemporalSummary``) the first time it is asked for, so a saved model that holds
    one loads: :func:`load_saved_model` asks for it before loading.
    """
    if not _SUMMARY_LAYER:
        from ser.training import backend

        keras = backend.keras()
        ops = keras.ops

        @keras.saving.register_keras_serializable(package="ser")
        class TemporalSummary(keras.layers.Layer):
            def call(self, x):
                change = x[:, 1:, :] - x[:, :-1, :]
                return ops.concatenate([ops.mean(x, axis=1), ops.std(x, axis=1), ops.std(change, axis=1)], axis=-1)

            def compute_output_shape(self, input_shape):
                return (input_shape[0], 3 * input_shape[2])

        _SUMMARY_LAYER.append(TemporalSummary)
    return _SUMMARY_LAYER[0]


def _seed(keras: Any, x: Any, n_classes: int) -> Any:
    L = keras.layers
    x = L.Reshape((-1, x.shape[2], 1))(x)  # (time, features, 1): time first, as an image
    for filters in (32, 64, 128):
        for _ in range(2):
            x = L.Conv2D(filters, 3, padding="same")(x)
            x = L.BatchNormalization()(x)
            x = L.Activation("relu")(x)
        x = L.MaxPooling2D(2)(x)
        x = L.Dropout(0.25)(x)
    x = L.Reshape((x.shape[1], x.shape[2] * x.shape[3]))(x)
    x = L.Bidirectional(L.LSTM(256, return_sequences=True))(x)
    x = L.Bidirectional(L.LSTM(128))(x)
    x = L.Dense(256)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Dropout(0.5)(x)
    return L.Dense(n_classes, activation="softmax")(x)


def _conv1d(keras: Any, x: Any, n_classes: int, *, filters: int, rnn: tuple[int, int], dense: int,
            input_dropout: float, dropout: float, input_noise: float, utterance_norm: bool, pooling: str,
            frame_dropout: float = 0.0, raw_rows: bool = True) -> Any:
    L = keras.layers
    if utterance_norm:  # each row normalised over this clip's frames: a speaker- and channel-robust shape
        per_clip = L.LayerNormalization(axis=1, center=False, scale=False, name="utterance_norm")(x)
        x = L.Concatenate(axis=-1)([x, per_clip]) if raw_rows else per_clip
    if input_noise:
        x = L.GaussianNoise(input_noise)(x)  # on normalised features, training only
    x = L.SpatialDropout1D(input_dropout)(x)  # drops whole feature rows: a cheap cousin of SpecAugment's masks
    if frame_dropout:  # drops whole frames: the time masks' cousin
        x = L.Dropout(frame_dropout, noise_shape=(None, x.shape[1], 1), name="frame_dropout")(x)
    for kernel in (5, 3):
        x = L.Conv1D(filters, kernel, padding="same")(x)
        x = L.BatchNormalization()(x)
        x = L.Activation("relu")(x)
        x = L.MaxPooling1D(2)(x)
        x = L.Dropout(dropout)(x)
    x = L.Bidirectional(L.LSTM(rnn[0], return_sequences=True))(x)
    if pooling == "mean":
        x = L.Bidirectional(L.LSTM(rnn[1], return_sequences=True))(x)
        x = L.GlobalAveragePooling1D()(x)
    else:
        x = L.Bidirectional(L.LSTM(rnn[1]))(x)
    x = L.Dense(dense)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Dropout(0.4)(x)
    return L.Dense(n_classes, activation="softmax")(x)


def _input_norm(keras: Any, n_features: int, n_frames: int, train_features: np.ndarray | None) -> tuple[Any, Any]:
    """The model's input and its features time-major, normalised per row over the training clips and frames."""
    L = keras.layers
    inputs = keras.Input(shape=(n_features, n_frames), name="features")
    x = L.Permute((2, 1), name="time_major")(inputs)  # (frames, features)
    norm = L.Normalization(axis=-1, name="feature_norm")
    norm.build((None, n_frames, n_features))
    if train_features is not None:  # per feature row, over clips and frames (what adapt() computes)
        mean = train_features.mean(axis=(0, 2), dtype=np.float64)
        variance = train_features.var(axis=(0, 2), dtype=np.float64)
        norm.adapt_mean.assign(mean.astype(np.float32))
        norm.adapt_variance.assign(variance.astype(np.float32))
        norm.finalize_state()
    return inputs, norm(x)


def build_summary_model(*, n_features: int, n_frames: int, n_classes: int, train_features: np.ndarray | None = None,
                        dense: int = 128, input_dropout: float = 0.3, dropout: float = 0.5,
                        name: str | None = None) -> Any:
    """An uncompiled summary network taking (batch, n_features, n_frames) features, as :func:`build_model`'s.

    Each row's mean, spread and change over the clip (:func:`summary_layer`), batch-normalised, dropout
    ``input_dropout``, ``Dense(dense)`` + batch norm + ReLU, dropout ``dropout``, softmax: the same
    ``ReLU(BN(Dense))`` unit below the softmax as the other presets, which personal models build on.
    """
    from ser.training import backend

    keras = backend.keras()
    L = keras.layers
    inputs, x = _input_norm(keras, n_features, n_frames, train_features)
    x = summary_layer()(name="summary")(x)
    x = L.BatchNormalization()(x)
    x = L.Dropout(input_dropout)(x)
    x = L.Dense(dense)(x)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    x = L.Dropout(dropout)(x)
    outputs = L.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name or "ser_summary")


def build_model(preset: str, *, n_features: int, n_frames: int, n_classes: int,
                train_features: np.ndarray | None = None, input_dropout: float = 0.1, dropout: float = 0.2,
                input_noise: float = 0.0, utterance_norm: bool = True, pooling: str = "mean",
                frame_dropout: float = 0.0, raw_rows: bool = True, name: str | None = None) -> Any:
    """An uncompiled Keras model for ``preset`` taking (batch, n_features, n_frames) features.

    Parameters
    ----------
    preset : ``"default"``, ``"seed"`` or ``"quick"``
    n_features, n_frames : int
        Shape of one feature matrix (182, max_frames).
    n_classes : int
    train_features : np.ndarray, shape (n, n_features, n_frames), optional
        Training features the input normalisation is adapted to; without them the
        normalisation is the identity until weights are loaded.
    input_dropout, dropout, input_noise, frame_dropout : float
        Regularisation of ``default`` and ``quick`` (the ``seed`` preset keeps its own):
        the share of feature rows dropped, dropout after each convolution block, the
        standard deviation of Gaussian noise added to normalised features in training, and
        the share of whole frames dropped.
    utterance_norm : bool
        Also feed each feature row normalised over the clip's own frames (``default``/``quick``).
    raw_rows : bool
        Keep the rows normalised over the training set beside the per-clip ones (``False``: the
        per-clip rows only, which removes the clip's average spectrum, i.e. its channel).
    pooling : ``"last"`` or ``"mean"``
        Summarise time by the last BiLSTM's final state, or by averaging its outputs.
    name : str, optional
        The model's name (default ``ser_<preset>``); members of an ensemble need distinct names.
    """
    from ser.training import backend

    keras = backend.keras()

    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is unknown; choose one of {', '.join(PRESETS)}.")
    inputs, x = _input_norm(keras, n_features, n_frames, train_features)
    if preset == "seed":
        outputs = _seed(keras, x, n_classes)
    else:
        reg = {"input_dropout": input_dropout, "dropout": dropout, "input_noise": input_noise,
               "utterance_norm": utterance_norm, "pooling": pooling, "frame_dropout": frame_dropout,
               "raw_rows": raw_rows}
        size = {"filters": 128, "rnn": (64, 32), "dense": 64} if preset == "default" else \
            {"filters": 32, "rnn": (16, 16), "dense": 32}
        outputs = _conv1d(keras, x, n_classes, **size, **reg)
    return keras.Model(inputs, outputs, name=name or f"ser_{preset}")


def compile_model(model: Any, *, learning_rate: float, label_smoothing: float = 0.0,
                  masked_classes: int | None = None) -> Any:
    """Compile with Adam and (label-smoothed) categorical cross-entropy on one-hot targets.

    With ``masked_classes`` (the number of emotions) the targets also carry each clip's emotion mask and the
    loss and accuracy are :func:`masked_crossentropy` and :func:`masked_accuracy`: several corpora with
    different sets of emotions.
    """
    from ser.training import backend

    keras = backend.keras()

    if masked_classes:
        loss = masked_crossentropy(masked_classes, label_smoothing=label_smoothing)
        metrics = [masked_accuracy(masked_classes)]
    else:
        loss, metrics = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing), ["accuracy"]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss, metrics=metrics)
    return model


def model_files(model_dir: str | Path, files: tuple[str, ...]) -> list[Path]:
    """Those of ``files`` that exist in ``model_dir``, in order; :class:`ModelError` if none does."""
    model_dir = Path(model_dir)
    present = [model_dir / f for f in files if (model_dir / f).exists()]
    if not present:
        raise ModelError(f"{model_dir}: holds neither {' nor '.join(files)}; "
                         "the training did not finish, train it again.")
    return present


def load_saved_model(model_dir: str | Path, files: tuple[str, ...]) -> tuple[Any, Path]:
    """The first of ``files`` in ``model_dir`` that loads as a Keras model, and its path.

    A damaged, unreadable or folder-shaped file is passed over for the next one (``model.h5``
    after ``model.keras``); if none loads, one :class:`ModelError` names each and what was wrong
    with it (the class of the error only), and the fix.
    """
    from ser.training import backend

    present = model_files(model_dir, files)
    keras = backend.keras()
    summary_layer()  # registered, for a model holding summary networks
    failures = []
    for file in present:
        if file.is_dir():
            failures.append(f"{file.name} is a folder, not a file")
            continue
        try:
            return keras.models.load_model(file, compile=False), file
        except PermissionError:
            failures.append(f"{file.name} cannot be read: permission denied")
        except Exception as exc:  # keras and h5py raise many kinds for a damaged file
            failures.append(f"{file.name} is damaged ({type(exc).__name__})")
    raise ModelError(f"{model_dir}: {'; '.join(failures)}; retrain or restore it.")


def masked_crossentropy(n_classes: int, *, label_smoothing: float = 0.0):
    """Cross-entropy restricted to each clip's own emotions: a clip of a corpus without "calm" says nothing
    about calm.

    The targets are ``(batch, 2 * n_classes)``: the one-hot emotion, then a 0/1 mask of the emotions the
    clip's corpus has. The model's probabilities are renormalised over the mask before the (label-smoothed,
    over the mask too) cross-entropy, so the loss neither rewards nor punishes an emotion the corpus never
    labels. With every mask all ones it is the usual label-smoothed categorical cross-entropy.
    """
    from ser.training import backend

    ops = backend.keras().ops

    def loss(y_true, y_pred):
        onehot, allowed = y_true[:, :n_classes], y_true[:, n_classes:]
        p = y_pred * allowed
        p = p / ops.maximum(ops.sum(p, axis=-1, keepdims=True), 1e-7)
        target = onehot * (1.0 - label_smoothing) + label_smoothing * allowed / ops.maximum(
            ops.sum(allowed, axis=-1, keepdims=True), 1.0)
        return -ops.sum(target * ops.log(ops.clip(p, 1e-7, 1.0)), axis=-1)

    loss.__name__ = "masked_crossentropy"
    return loss


def masked_accuracy(n_classes: int):
    """Accuracy of the answer among each clip's own emotions (targets as :func:`masked_crossentropy`'s)."""
    from ser.training import backend

    ops = backend.keras().ops

    def accuracy(y_true, y_pred):
        onehot, allowed = y_true[:, :n_classes], y_true[:, n_classes:]
        return ops.cast(ops.equal(ops.argmax(y_pred * allowed, axis=-1), ops.argmax(onehot, axis=-1)), "float32")

    accuracy.__name__ = "accuracy"  # history.csv keeps its columns: accuracy, val_accuracy
    return accuracy
