"""What the shipped network's penultimate activations look like over its TRAINING data, from its own weights.

Each member's penultimate unit is ``ReLU(BN(Dense(x)))``. Batch normalisation makes the pre-activation over
the training data approximately ``N(beta, gamma^2)`` (its moving mean and variance are the training data's;
``gamma`` and ``beta`` are what the network then learnt to shift and scale by), so the unit's mean and spread
over the training data follow analytically (a rectified Gaussian, :func:`rectified_gaussian_moments`) with no
training clip and no file beside the model. :mod:`ser.serving.adapt` scales each activation by that spread.

The export (``model.onnx``) folds the normalisation into one multiply and one add (``mul = gamma /
sqrt(var + eps)``, ``sub = beta - mean * mul``), which cannot be undone without the moving statistics; those
are read from ``model.keras``'s weights file with ``h5py`` (no TensorFlow), and each of its normalisation
layers is matched to the export's folded constants by value, so the layer names need not agree.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["rectified_gaussian_moments", "penultimate_statistics", "standardiser", "MIN_SPREAD"]

MIN_SPREAD = 1e-3
"""A unit whose training spread is below this fraction of the median unit's is dead on the training data
(always 0 there): :func:`penultimate_statistics` gives it an infinite spread, so it is left out of the head."""


def rectified_gaussian_moments(loc: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of ``max(0, x)`` for ``x ~ N(loc, scale^2)``, element by element.

    Parameters
    ----------
    loc, scale : np.ndarray, shape (d,) (``scale`` taken as ``|scale|``)

    Returns
    -------
    mean, std : np.ndarray, shape (d,)
    """
    from scipy.special import ndtr

    loc, scale = np.asarray(loc, np.float64), np.abs(np.asarray(scale, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(scale > 0, loc / np.where(scale > 0, scale, 1.0), np.sign(loc) * np.inf)
    cdf, pdf = ndtr(a), np.exp(-0.5 * np.minimum(a * a, 1e4)) / np.sqrt(2 * np.pi)
    mean = loc * cdf + scale * pdf
    second = (loc * loc + scale * scale) * cdf + loc * scale * pdf
    return mean, np.sqrt(np.maximum(second - mean * mean, 0.0))


def _folded(graph: Any, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The (mul, sub) constants of ``Relu(Add(Mul(h, mul), sub))`` producing ``name``, or ``None``."""
    from onnx import numpy_helper

    producer = {out: node for node in graph.node for out in node.output}
    inits = {i.name: i for i in graph.initializer}
    relu = producer.get(name)
    add = producer.get(relu.input[0]) if relu is not None and relu.op_type == "Relu" else None
    if add is None or add.op_type != "Add":
        return None
    sub = next((numpy_helper.to_array(inits[i]) for i in add.input if i in inits), None)
    mul_node = next((producer[i] for i in add.input if i in producer), None)
    if sub is None or mul_node is None or mul_node.op_type != "Mul":
        return None
    mul = next((numpy_helper.to_array(inits[i]) for i in mul_node.input if i in inits), None)
    return None if mul is None else (mul.astype(np.float64).ravel(), sub.astype(np.float64).ravel())


def _keras_batchnorms(keras_file: Path) -> list[dict[str, np.ndarray]]:
    """Every normalisation layer's gamma, beta, moving mean and variance in a ``.keras`` file's weights."""
    import h5py

    with zipfile.ZipFile(keras_file) as z:
        data = z.read("model.weights.h5")
    out = []
    with h5py.File(io.BytesIO(data), "r") as f:
        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Group) and name.rsplit("/", 1)[-1].startswith("batch_normalization") \
                    and "vars" in obj and len(obj["vars"]) == 4:
                v = [np.asarray(obj["vars"][str(i)], np.float64) for i in range(4)]
                out.append(dict(zip(("gamma", "beta", "mean", "var"), v)))
        f.visititems(visit)
    return out


def penultimate_statistics(proto: Any, names: list[str], keras_file: str | Path, *, epsilon: float = 1e-3
                           ) -> tuple[np.ndarray, np.ndarray] | None:
    """Each penultimate activation's mean and spread over the training data, from the network's weights.

    Parameters
    ----------
    proto : the export (``onnx.ModelProto``); names : its penultimate activations (each member's ReLU output)
    keras_file : the same network's ``model.keras`` (its normalisation layers' gamma and beta)
    epsilon : the normalisation's epsilon (Keras' default), used to match a layer to the export's constants

    Returns
    -------
    (mean, std) : np.ndarray, shape (d,), ``d`` the activations of ``names`` concatenated; a dead unit's
    ``std`` is ``inf`` (:data:`MIN_SPREAD`). ``None`` when ``keras_file`` is missing or a unit is not
    ``ReLU(BN(.))`` matching one of its layers.
    """
    keras_file = Path(keras_file)
    if not keras_file.is_file():
        return None
    layers = _keras_batchnorms(keras_file)
    means, stds = [], []
    for name in names:
        folded = _folded(proto.graph, name)
        if folded is None:
            return None
        mul, sub = folded
        match = None
        for bn in layers:
            if bn["gamma"].shape != mul.shape:
                continue
            m = bn["gamma"] / np.sqrt(bn["var"] + epsilon)
            if np.allclose(m, mul, rtol=1e-3, atol=1e-6) and np.allclose(bn["beta"] - bn["mean"] * m, sub,
                                                                         rtol=1e-3, atol=1e-5):
                match = bn
                break
        if match is None:
            return None
        mean, std = rectified_gaussian_moments(match["beta"], match["gamma"])
        means.append(mean), stds.append(std)
    mean, std = np.concatenate(means), np.concatenate(stds)
    return mean, np.where(std < MIN_SPREAD * np.median(std), np.inf, std)


def standardiser(Z: np.ndarray, *, train: tuple[np.ndarray, np.ndarray] | None = None,
                 scaling: str = "enrolment") -> tuple[np.ndarray, np.ndarray]:
    """The head's input scaling ``(Z - mu) / s`` (:data:`ser.serving.adapt.SCALING`).

    ``"enrolment"``: the enrolment rows' mean and one overall scale (a per-activation scale from a handful
    of rows would be noise); ``"train"``: each activation's mean and spread over the training data (``train``,
    :func:`penultimate_statistics`); ``"train_spread"``: the enrolment rows' mean and the training spread.
    Without ``train`` it is ``"enrolment"``.

    Parameters
    ----------
    Z : np.ndarray, shape (n, d): the enrolment rows' activations

    Returns
    -------
    mu, s : np.ndarray, shape (d,) (``s`` is ``inf`` for a unit left out)
    """
    mu = Z.mean(axis=0)
    if train is None or scaling == "enrolment":
        return mu, np.full(Z.shape[1], float(np.sqrt(np.mean((Z - mu) ** 2))) or 1.0)
    return (train[0] if scaling == "train" else mu), train[1]
