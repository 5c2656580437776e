"""An inference export of a saved model for ONNX Runtime: prediction without TensorFlow.

Training writes ``model.onnx`` beside ``model.keras`` (:func:`export_onnx`); prediction loads it with
:func:`load_onnx` when it is there and was made from the ``model.keras`` beside it, and falls back to
Keras otherwise (:meth:`ser.serving.predict.Predictor.load`). Loading the export takes tens of milliseconds and
needs only ``onnxruntime``, against seconds and TensorFlow's memory for the Keras model.

Why ONNX and not LiteRT: both were tried on the shipped BiLSTM ensemble. ``tf2onnx`` converts it and
ONNX Runtime agrees with Keras to 1e-6; Keras' LiteRT export needs TensorFlow's "select ops"
(``FlexTensorListReserve``) that the stand-alone ``ai-edge-litert`` interpreter does not have, and a
fixed-batch conversion fails at run time on its variables.

Every export records the SHA-256 of the Keras file it was made from (ONNX metadata
``ser_source_sha256``), so a stale export (the Keras file replaced after the export) is never used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ser.errors import ModelError
from ser.features.cache import file_digest
from ser.model_folder import MODEL_FILES, ONNX

__all__ = ["EXPORT_FILE", "OnnxModel", "export_onnx", "load_onnx", "export_status"]

EXPORT_FILE = ONNX  # the export's name in a model folder (kept here for its callers)
_SOURCE_KEY = "ser_source_sha256"
_SOURCE_NAME_KEY = "ser_source"
_OPSET = 17


def export_onnx(model: Any, path: str | Path, *, source: str | Path) -> Path:
    """Write ``model`` (a loaded Keras model) as an ONNX file for ONNX Runtime.

    Parameters
    ----------
    model : keras.Model
        Takes a batch of feature matrices, shape (batch, n_features, max_frames), and gives
        probabilities, shape (batch, n_emotions). The batch size stays free in the export.
    path : str or Path
        Where to write, normally ``<model_dir>/model.onnx``; written to a temporary name first and
        renamed, so a reader never sees half a file.
    source : str or Path
        The saved Keras file ``model`` was loaded from (or saved to); its SHA-256 is stored in the
        export so that :func:`export_status` can tell a stale export.

    Returns
    -------
    Path of the export.

    Raises
    ------
    ModelError
        When ``tf2onnx`` cannot convert the model (the message names the model and the fix).
    """
    import tensorflow as tf

    path = Path(path)
    spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="features")

    @tf.function(input_signature=[spec])
    def forward(x):
        return model(x, training=False)

    try:
        import onnx
        import tf2onnx
        from onnx import numpy_helper

        concrete = forward.get_concrete_function()
        proto, _ = tf2onnx.convert.from_function(forward, input_signature=[spec], opset=_OPSET)
    except Exception as exc:  # tf2onnx raises many kinds for an op it does not know
        raise ModelError(f"{model.name}: cannot be exported to ONNX ({type(exc).__name__}); "
                         "it still predicts with Keras.") from exc
    # Tensors a layer keeps outside its variables (Normalization's mean and variance) reach tf2onnx as
    # graph inputs rather than constants: put their values in as initialisers.
    captured = {inner.name: outer for outer, inner in concrete.graph.captures if outer.dtype != tf.resource}
    for graph_input in list(proto.graph.input):
        if graph_input.name in captured:
            proto.graph.initializer.append(numpy_helper.from_array(captured[graph_input.name].numpy(),
                                                                   graph_input.name))
            proto.graph.input.remove(graph_input)
    used = {name for node in proto.graph.node for name in node.input}
    for init in [i for i in proto.graph.initializer if i.name not in used]:
        proto.graph.initializer.remove(init)
    if [i.name for i in proto.graph.input] != ["features"]:
        raise ModelError(f"{model.name}: its ONNX export takes inputs {[i.name for i in proto.graph.input]}, "
                         "not the features alone; it still predicts with Keras.")
    for key, value in ((_SOURCE_KEY, file_digest(source, algorithm="sha256")), (_SOURCE_NAME_KEY, Path(source).name)):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        onnx.save(proto, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@dataclass(frozen=True)
class OnnxModel:
    """An ONNX Runtime session with the two things :class:`ser.serving.predict.Predictor` asks of a model.

    Attributes
    ----------
    input_shape : tuple
        ``(None, n_features, max_frames)``, as Keras' ``model.input_shape``.
    output_shape : tuple
        ``(None, n_emotions)``.
    path : Path
    """

    session: Any
    input_shape: tuple
    output_shape: tuple
    path: Path

    def predict_on_batch(self, X: np.ndarray) -> np.ndarray:
        """Probabilities, shape (n, n_emotions), for features of shape (n, n_features, max_frames)."""
        return self.session.run(None, {"features": np.ascontiguousarray(X, dtype=np.float32)})[0]


def export_status(model_dir: str | Path, *, source_files: tuple[str, ...] = MODEL_FILES) -> str:
    """Why ``model_dir``'s export cannot be used, or ``""`` when it can.

    The export must exist and must have been made from one of ``source_files`` as it is now (same
    SHA-256): an export left over from an earlier training is not used.
    """
    model_dir = Path(model_dir)
    path = model_dir / EXPORT_FILE
    if not path.is_file():
        return f"no {EXPORT_FILE} (run: python -m ser export --model {model_dir})"
    meta = _metadata(path)
    if meta is None:
        return f"{EXPORT_FILE} is damaged"
    name = meta.get(_SOURCE_NAME_KEY, "")
    if name not in source_files or not (model_dir / name).is_file():
        return f"{EXPORT_FILE} names no model file here"
    if meta.get(_SOURCE_KEY) != file_digest(model_dir / name, algorithm="sha256"):
        return f"{EXPORT_FILE} was made from an earlier {name} (run: python -m ser export --model {model_dir})"
    return ""


def _metadata(path: Path) -> dict[str, str] | None:
    try:
        return dict(_session(path).get_modelmeta().custom_metadata_map)
    except ModelError:
        return None


_SESSIONS: dict[tuple[str, int, int], Any] = {}


def _session(path: Path) -> Any:
    """One ONNX Runtime session per file version (path, size, mtime) in this process."""
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror}); restore it or export again.") from exc
    if key not in _SESSIONS:
        from ser.runtime import inference_session

        try:
            _SESSIONS[key] = inference_session(path)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf kinds
            raise ModelError(f"{path}: is damaged ({type(exc).__name__}); export it again with "
                             f"python -m ser export --model {path.parent}.") from exc
    return _SESSIONS[key]


def load_onnx(model_dir: str | Path) -> OnnxModel:
    """The export in ``model_dir`` as an :class:`OnnxModel`; :class:`ModelError` when it cannot load."""
    path = Path(model_dir) / EXPORT_FILE
    session = _session(path)
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    if inp.name != "features" or len(inp.shape) != 3 or len(out.shape) != 2:
        raise ModelError(f"{path}: takes {inp.name} of shape {inp.shape}, not ser's features; export it again.")
    return OnnxModel(session, (None, *inp.shape[1:]), (None, out.shape[1]), path)
