"""Picking a trained model and loading it once per version."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._ui.state import models_dir
from pages._ui.text import md
from ser import SerError


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_predictor(model_dir: str, mtime: tuple[float, ...]):
    from ser.serving.predict import Predictor

    return Predictor.load(model_dir)


def predictor_or_error(model_dir: Path):
    from ser.serving.export import EXPORT_FILE
    from ser.serving.predict import MODEL_FILES

    versions = tuple(f.stat().st_mtime if f.is_file() else 0.0
                     for f in (model_dir / name for name in (*MODEL_FILES, EXPORT_FILE)))  # a new export reloads
    try:
        return load_predictor(str(model_dir), versions)
    except (SerError, FileNotFoundError, OSError) as exc:
        st.error(md(exc))
        return None


def model_picker(label: str = "Model", key: str = "p_model") -> Path | None:
    from ser.training.runs import list_models

    models = list_models(models_dir())
    if not models:
        st.info("No trained model yet. Train one on the **Train** page.")
        return None
    names = [m.name for m in models]
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    name = st.selectbox(label, names, key=key)
    return models_dir() / name


def runtime_caption(predictor) -> str:
    """One line on what runs the model, for the pages that predict."""
    if predictor.runtime == "onnx":
        return "Runs on ONNX Runtime (the model's `model.onnx` export), without TensorFlow."
    return (f"Runs on Keras/TensorFlow: {predictor.fallback_reason}." if predictor.fallback_reason
            else "Runs on Keras/TensorFlow.")
