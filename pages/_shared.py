"""What every page shares: where data and models live, cached loaders, plots, and state.

Pages stay thin: they read widgets, call `ser`, and draw with these helpers.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from ser import EMOTIONS, SerError

REPO = Path(__file__).resolve().parents[1]
DEMO_LABELS = REPO / "data" / "demo" / "all_labels.csv"
EMOTION_COLORS = dict(zip(EMOTIONS, px.colors.qualitative.Set2))
PERSIST_PREFIX = "p_"


def models_dir() -> Path:
    """Where models live: ``$SER_MODELS_DIR``, else ``models/`` in the project."""
    return Path(os.environ.get("SER_MODELS_DIR", REPO / "models"))


def through_the_router() -> None:
    """Make sure the page runs inside ``streamlit_app.py``'s ``st.navigation``.

    Because the project has a ``pages/`` folder beside the entrypoint, Streamlit starts every server in
    its older "pages folder" mode and, when the first request names a page (a shared link to
    ``/predict``, or a rerun in AppTest), runs that page file alone: no router, no sidebar
    housekeeping, and ``pages/_shared.py`` listed as a page. The mode ends when ``st.navigation`` is
    first called; so end it here and run the router in this same script run (so that a click that
    started the run is not lost); the router runs this page again, and this outer run stops.
    """
    import runpy

    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(REPO / "streamlit_app.py"), run_name="__main__")
        st.stop()


def setup() -> None:
    """Call first on every page: runs it through the router (:func:`through_the_router`) and keeps the
    values of widgets keyed ``p_...`` when the user switches pages (Streamlit otherwise forgets
    widgets that are not on the current page)."""
    through_the_router()
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(PERSIST_PREFIX)]:
        st.session_state[key] = st.session_state[key]


def known_datasets() -> list[str]:
    """Labels CSVs offered in dataset pickers: the demo set, other folders under data/, the
    development corpus beside the checkout, and whatever the user typed this session."""
    from ser.paths import data_roots, inside

    found = [DEMO_LABELS] + sorted(p for p in (REPO / "data").glob("*/all_labels.csv") if p != DEMO_LABELS)
    for root in data_roots()[1:]:  # folders the operator allowed in $SER_DATA_ROOTS
        found += sorted(root.glob("all_labels.csv")) + sorted(root.glob("*/all_labels.csv"))
    out = []
    for p in found:
        if p.is_file() and inside(p, data_roots()) and str(p) not in out:
            out.append(str(p))
    for extra in st.session_state.get("extra_datasets", []):
        if extra not in out:
            out.append(extra)
    return out


def short(path: str | Path) -> str:
    """A path as a person reads it: relative to the project where possible."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        return str(p)


def _add_dataset() -> None:
    """Button callback: runs before the page, so it may change the picker's value."""
    typed = st.session_state.get("other_dataset", "").strip()
    if not typed:
        return
    from ser.paths import check_inside

    try:  # before anything is read: a folder outside data/ (or $SER_DATA_ROOTS) is never opened
        path = check_inside(typed, what="folder")
    except SerError as exc:
        st.session_state["dataset_error"] = str(exc)
        return
    csv = path / "all_labels.csv" if path.is_dir() else path
    if csv.is_file():
        extra = st.session_state.setdefault("extra_datasets", [])
        if str(csv.resolve()) not in extra:
            extra.append(str(csv.resolve()))
        st.session_state["p_dataset"] = str(csv.resolve())
        st.session_state["dataset_error"] = None
    else:
        st.session_state["dataset_error"] = (f"{typed}: no all_labels.csv there. A dataset folder needs one with "
                                             "columns path, emotion and (optionally) speaker.")


def dataset_picker(label: str = "Dataset") -> str | None:
    """A dataset picker shared by all pages (its value survives page switches)."""
    options = known_datasets()
    if not options:
        st.warning("No dataset found. Put clips and an all_labels.csv in a folder and type its path below.")
    if st.session_state.get("p_dataset") not in options and options:
        st.session_state["p_dataset"] = options[0]
    choice = st.selectbox(label, options, key="p_dataset", format_func=short) if options else None
    with st.expander("Use another folder", expanded=bool(st.session_state.get("dataset_error"))):
        st.text_input("Folder with an all_labels.csv (or the CSV itself)", key="other_dataset")
        st.button("Add dataset", on_click=_add_dataset)
        if st.session_state.get("dataset_error"):
            st.error(st.session_state["dataset_error"])
    return choice


@st.cache_data(show_spinner="Reading labels…")
def load_labels(csv: str, mtime: float):
    """Labels, their problems, and per-clip durations, cached per file version."""
    import soundfile as sf

    from ser.labels import read_labels, validate_labels

    labels = read_labels(csv)
    problems = validate_labels(labels)
    durations = []
    for p in labels["abspath"]:
        try:
            durations.append(sf.info(p).duration)
        except Exception:  # problems above already name the file
            durations.append(np.nan)
    labels = labels.assign(duration_s=durations)
    return labels, problems


def labels_or_error(csv: str | None):
    if not csv:
        return None, []
    try:
        return load_labels(csv, Path(csv).stat().st_mtime)
    except (SerError, FileNotFoundError) as exc:
        st.error(str(exc))
        return None, []


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


# --- plots --------------------------------------------------------------------------------

def waveform_figure(y: np.ndarray, sr: int, *, title: str = "Waveform", height: int = 200) -> go.Figure:
    step = max(1, len(y) // 4000)  # enough points for the eye, few for the browser
    t = np.arange(0, len(y), step) / sr
    fig = go.Figure(go.Scatter(x=t, y=y[::step], mode="lines", line={"width": 1}))
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="seconds", yaxis_title="amplitude", showlegend=False)
    return fig


def heatmap_figure(z: np.ndarray, *, sr: int, hop_length: int, title: str, y_label: str,
                   colorbar: str, height: int = 260) -> go.Figure:
    t = np.arange(z.shape[1]) * hop_length / sr
    fig = go.Figure(go.Heatmap(z=z, x=t, colorscale="Magma", colorbar={"title": colorbar}))
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis_title="seconds", yaxis_title=y_label)
    return fig


def mel_figure(y: np.ndarray, sr: int, *, title: str = "Mel spectrogram", height: int = 260) -> go.Figure:
    """The mel spectrogram with the model's own frame settings (``FeatureConfig``), so what is shown
    is what the features are made of."""
    import librosa

    from ser.config import FeatureConfig

    c = FeatureConfig()
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=c.n_fft, hop_length=c.hop_length,
                                                             n_mels=c.n_mels), ref=np.max)
    return heatmap_figure(mel, sr=sr, hop_length=c.hop_length, title=title, y_label="mel band", colorbar="dB",
                          height=height)


def probability_figure(probabilities: dict[str, float], *, height: int = 280) -> go.Figure:
    emos = list(probabilities)
    fig = go.Figure(go.Bar(x=emos, y=[probabilities[e] for e in emos],
                           marker_color=[EMOTION_COLORS.get(e, "#888") for e in emos],
                           text=[f"{probabilities[e]:.0%}" for e in emos], textposition="outside"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis={"range": [0, 1.1],
                      "tickformat": ".0%", "title": "probability"}, showlegend=False)
    return fig
