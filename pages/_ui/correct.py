"""“That's not right”: after a prediction, the user says which emotion it really was, and the clip goes with
that label into a dataset of their choice, ready to tune a personal model with.

The clip is kept by :func:`ser.datasets.recording.add_recording`, as the Record clips flow keeps its clips
(:mod:`pages._ui.collect`): under a lock on the dataset, written to a temporary file and renamed, its row
appended by writing the CSV anew and renaming it over the old one, and only into a dataset this visitor may
change (:func:`pages._ui.collect.why_read_only`). Nothing is written outside :func:`ser.paths.datasets_dir`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._ui.collect import why_read_only
from pages._ui.operator import who
from pages._ui.text import md
from ser import EMOTIONS, SerError

__all__ = ["correction_form", "changeable_datasets", "dataset_counts", "NEW_DATASET", "DEFAULT_DATASET"]

NEW_DATASET = "➕ A new dataset…"
DEFAULT_DATASET = "my-corrections"


def changeable_datasets() -> list[str]:
    """Names of the datasets under :func:`ser.paths.datasets_dir` this visitor may append clips to."""
    from ser.paths import datasets_dir

    root = datasets_dir()
    return sorted(p.parent.name for p in root.glob("*/all_labels.csv")
                  if not p.parent.name.startswith(".") and why_read_only(p.parent) is None)


def dataset_counts(csv: Path, speaker: str) -> str:
    """``"5 clips, 2 of anna: angry 1, sad 1"``: the dataset's size and ``speaker``'s clips per emotion."""
    from pages._ui.personal import clips_per_emotion
    from ser.datasets.labels import read_labels

    labels = read_labels(csv)
    per = clips_per_emotion(labels, speaker, EMOTIONS)
    shown = ", ".join(f"{e} {n}" for e, n in per.items() if n)
    return f"{len(labels)} clip(s), {(labels['speaker'] == speaker).sum()} of {speaker}" + (f": {shown}" if shown else "")


def _dataset_name(k: str) -> str:
    choice = st.session_state.get(f"cor_dataset_{k}")
    if choice == NEW_DATASET or choice is None:
        return str(st.session_state.get(f"cor_new_{k}", "")).strip()
    return str(choice)


def _save(k: str, audio: bytes, name: str) -> None:
    """Keep the clip with the corrected label (a button's callback: its message is shown on the rerun)."""
    from ser.datasets.recording import add_recording
    from ser.paths import check_name, datasets_dir

    st.session_state.pop(f"cor_saved_{k}", None)
    speaker = str(st.session_state.get(f"cor_speaker_{k}", "")).strip()
    emotion = st.session_state.get(f"cor_emotion_{k}")
    try:
        if emotion is None:
            raise SerError("choose the emotion it really was, then save.")
        dataset = datasets_dir() / check_name(_dataset_name(k), what="dataset name")
        rel = add_recording(dataset, audio, speaker=speaker, emotion=emotion, name=name, by=who())
        counts = dataset_counts(dataset / "all_labels.csv", speaker)
    except SerError as exc:
        st.session_state[f"cor_error_{k}"] = str(exc)
        return
    st.session_state["cor_speaker"], st.session_state["cor_dataset"] = speaker, dataset.name  # for the next one
    st.session_state["p_tune_dataset"] = str(dataset / "all_labels.csv")  # the Tune tab offers what was just kept
    st.session_state["p_tune_speaker"] = speaker
    st.session_state[f"cor_saved_{k}"] = {
        "csv": str(dataset / "all_labels.csv"), "speaker": speaker,
        "line": f"Saved {rel} as {emotion} in “{dataset.name}” ({counts}).",
    }


def _start_tuning(k: str, csv: str, speaker: str) -> None:
    st.session_state[f"cor_tuning_{k}"] = True
    st.session_state["p_tune_dataset"], st.session_state["p_tune_speaker"] = csv, speaker  # the tab agrees


def correction_form(audio: bytes, *, predicted: str | None, key: str, name: str = "the recording",
                    model_dir: Path | None = None) -> None:
    """A “That's not right” expander under a prediction: the emotion it really was, who spoke, and which
    dataset keeps the clip; then an offer to tune a personal model with those clips.

    Parameters
    ----------
    audio : the clip that was predicted, as a file's bytes
    predicted : the model's answer (``None``: it named no emotion, and the clip is not offered for keeping)
    key : unique on the page (one form per clip)
    name : the clip's name, for messages
    model_dir : the model the prediction came from, the base of a personal model tuned from here
    """
    k = key
    saved = st.session_state.get(f"cor_saved_{k}")
    with st.expander("🙅 That's not right", expanded=bool(saved or st.session_state.get(f"cor_error_{k}"))):
        if predicted is None:  # no speech, or several voices: a personal model is fitted on one voice speaking
            st.caption("The model named no emotion for this clip (no speech, or several voices), so it is not "
                       "kept as a labelled clip: a personal model learns only from one person speaking. Record "
                       "it again, closer to the microphone.")
            return
        st.caption(f"The model said **{md(predicted)}**. Say which emotion it really was: the clip and your "
                   "label are kept in a dataset of yours, to tune a model to your voice with.")
        c1, c2, c3 = st.columns(3)
        c1.selectbox("It really was", EMOTIONS, index=None, placeholder="Choose the emotion", key=f"cor_emotion_{k}")
        st.session_state.setdefault(f"cor_speaker_{k}", st.session_state.get("cor_speaker", ""))
        c2.text_input("Speaker", key=f"cor_speaker_{k}", placeholder="e.g. anna",
                      help="Who speaks in the clip: letters, digits, '.', '_' or '-'. Kept for your next correction.")
        options = [*changeable_datasets(), NEW_DATASET]
        if st.session_state.get(f"cor_dataset_{k}") not in options:
            last = st.session_state.get("cor_dataset")
            st.session_state[f"cor_dataset_{k}"] = (last if last in options else DEFAULT_DATASET
                                                    if DEFAULT_DATASET in options else NEW_DATASET)
        c3.selectbox("Keep it in", options, key=f"cor_dataset_{k}",
                     help="One of your datasets (made with Record clips or earlier corrections), or a new one.")
        read_only = None
        if st.session_state[f"cor_dataset_{k}"] == NEW_DATASET:
            st.session_state.setdefault(f"cor_new_{k}", DEFAULT_DATASET)
            c3.text_input("New dataset name", key=f"cor_new_{k}",
                          help="Letters, digits, '.', '_' or '-'; clips already under that name are kept.")
            from ser.paths import check_name, datasets_dir

            try:
                read_only = why_read_only(datasets_dir() / check_name(_dataset_name(k), what="dataset name"))
            except SerError:
                read_only = None  # the Save button says why
            if read_only:
                st.info(md(read_only))
        st.button("Save correction", key=f"cor_save_{k}", type="primary", on_click=_save, args=(k, audio, name),
                  disabled=bool(read_only))
        if st.session_state.get(f"cor_error_{k}"):
            st.error(md(st.session_state.pop(f"cor_error_{k}")))
        if saved:
            st.success(md(saved["line"]))
            st.button("🎯 Tune my model with these corrections", key=f"cor_tune_{k}", on_click=_start_tuning,
                      args=(k, saved["csv"], saved["speaker"]))
            if st.session_state.get(f"cor_tuning_{k}") and model_dir is not None:
                from pages._ui.personal import tune_form

                tune_form(model_dir, saved["csv"], saved["speaker"], key=f"cor_{k}")
