"""Picking a dataset (only inside the allowed folders) and reading its labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from pages._ui.state import REPO, short
from pages._ui.text import md
from ser import SerError

DEMO_LABELS = REPO / "data" / "demo" / "all_labels.csv"


def known_datasets() -> list[str]:
    """Labels CSVs offered in dataset pickers: the demo set, other folders under data/, those in the
    folders the operator allowed (``$SER_DATA_ROOTS``), and whatever the user added this session."""
    from ser.paths import data_roots, datasets_dir, inside

    roots = data_roots()
    found = [DEMO_LABELS] + sorted(p for p in (REPO / "data").glob("*/all_labels.csv") if p != DEMO_LABELS)
    found += sorted(p for p in datasets_dir().glob("*/all_labels.csv")  # made in the browser;
                    if not p.parent.name.startswith("."))  # not an upload still being looked at
    for root in roots[1:]:  # folders the operator allowed in $SER_DATA_ROOTS
        found += sorted(root.glob("all_labels.csv")) + sorted(root.glob("*/all_labels.csv"))
    out = []
    for p in found:
        if p.is_file() and inside(p, roots) and str(p) not in out:
            out.append(str(p))
    for extra in st.session_state.get("extra_datasets", []):
        if extra not in out:
            out.append(extra)
    return out


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
            st.error(md(st.session_state["dataset_error"]))
    return choice


@st.cache_data(show_spinner="Reading labels…")
def load_labels(csv: str, mtime: float):
    """Labels, their problems, and per-clip durations, cached per file version."""
    import soundfile as sf

    from ser.datasets.labels import read_labels, validate_labels

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
        st.error(md(exc))
        return None, []
