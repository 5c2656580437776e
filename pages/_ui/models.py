"""Picking a trained model and loading it once per version."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._ui.state import models_dir
from pages._ui.text import md
from ser import SerError


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_predictor(model_dir: str, version: str):
    from ser.serving.predict import Predictor

    return Predictor.load(model_dir)


def predictor_or_error(model_dir: Path):
    from ser.model_folder import ModelFolder

    try:  # loaded again for a new model, a new export or an edited config
        return load_predictor(str(model_dir), ModelFolder(model_dir).fingerprint())
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
    if st.session_state.get(f"{key}_next") in names:  # a model just made on the page (drawn before it was there)
        st.session_state[key] = st.session_state.pop(f"{key}_next")
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
