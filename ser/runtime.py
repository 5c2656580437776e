"""ONNX Runtime sessions: the one place that makes them, with the same options for every model.

Everything ser runs without TensorFlow goes through :func:`inference_session`: the networks' export
(:mod:`ser.serving.export`), a personal model's probe (:mod:`ser.serving.adapt`), the speech detector
(:mod:`ser.audio.speech`) and the voice encoder (:mod:`ser.features.encoder`). Every session logs errors
only and does not busy-wait between runs (a 3 ms run left its threads spinning for ~45 ms of CPU in each
answer of the live meter: ``benchmarks/live.py``); the small models that run many times in one answer take
``one_thread`` (no thread pool to start or share).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["inference_session"]


def inference_session(model: str | Path | bytes, *, one_thread: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU for a model file or its serialized bytes.

    Parameters
    ----------
    model : path of an ``.onnx`` file, or the bytes of one (``ModelProto.SerializeToString()``)
    one_thread : run on one thread (``intra_op_num_threads = inter_op_num_threads = 1``); otherwise ONNX
        Runtime chooses

    Raises whatever ONNX Runtime raises for a file it cannot load; callers that read a user's file turn that
    into their own one-line :class:`~ser.errors.ModelError`.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: no notes on standard error
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if one_thread:
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
