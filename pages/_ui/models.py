"""Picking a trained model and loading it once per version."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._ui.state import models_dir
from ser import SerError


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_predictor(model_dir: str, mtime: float):
    from ser.predict import Predictor

    return Predictor.load(model_dir)


def predictor_or_error(model_dir: Path):
    from ser.predict import MODEL_FILES

    file = next((model_dir / f for f in MODEL_FILES if (model_dir / f).is_file()), model_dir)
    try:
        return load_predictor(str(model_dir), file.stat().st_mtime)
    except (SerError, FileNotFoundError) as exc:
        st.error(str(exc))
        return None


def model_picker(label: str = "Model", key: str = "p_model") -> Path | None:
    from ser.runs import list_models

    models = list_models(models_dir())
    if not models:
        st.info("No trained model yet. Train one on the **Train** page.")
        return None
    names = [m.name for m in models]
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    name = st.selectbox(label, names, key=key)
    return models_dir() / name
