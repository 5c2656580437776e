"""Bringing your own voices from the browser: a dataset from uploaded files, and recording clips one by one.

Both write under :func:`ser.paths.datasets_dir` only; the logic is :mod:`ser.datasets.importing` and
:mod:`ser.datasets.recording`, this module draws it.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from pages._ui.operator import who
from pages._ui.state import short
from pages._ui.text import md
from ser import EMOTIONS, SerError

SPEAKER_CHOICES = {"none": "No speakers", "folder": "A folder level", "pattern": "A file-name pattern"}


def _datasets_dir() -> Path:
    from ser.paths import datasets_dir

    return datasets_dir()


def _open_dataset(csv: Path) -> None:
    """Show ``csv`` on the Browse view (a callback: it runs before the widgets are drawn)."""
    st.session_state["p_dataset"] = str(csv)  # listed already: the pickers list every dataset in datasets_dir()
    st.session_state["p_ds_mode"] = "Browse"


def why_read_only(folder: Path) -> str | None:
    """Why this session may not replace or append to the dataset ``folder`` (one line), or ``None``."""
    from ser.access import why_not_change
    from ser.paths import check_writable_dataset

    try:
        check_writable_dataset(folder)
    except SerError as exc:
        return str(exc)
    return why_not_change(folder, who(), what="dataset")


def _suggested_name(upload_name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(upload_name).stem).strip("-._") or "my-dataset"
    return stem[:60]


def _drop_upload() -> None:
    """Remove this session's unsaved upload (replaced, or taken out of the uploader)."""
    st.session_state.pop("nd_unpacked", None)
    st.session_state.pop("nd_preview", None)
    lease = st.session_state.pop("nd_lease", None)
    if lease is not None:
        lease.release()


def _unpack(files) -> None:
    """Unpack a new upload once (a rerun with the same files reuses it and is its heartbeat); the previous
    one is removed. The session holds it by an :class:`ser.datasets.importing.UploadLease`: when the session's state
    goes, so does the upload."""
    from ser.datasets.importing import hold, unpack

    key = tuple((f.name, f.size, getattr(f, "file_id", "")) for f in files)
    lease = st.session_state.get("nd_lease")
    if st.session_state.get("nd_key") == key and (lease is None or lease.touch()):
        return  # the same upload, still there (removed after INCOMING_IDLE_S idle: unpacked again)
    _drop_upload()
    st.session_state["nd_key"], st.session_state["nd_error"] = key, ""
    st.session_state.pop("nd_unpacked", None)
    try:
        if len(files) == 1 and files[0].name.lower().endswith(".zip"):
            unpacked = unpack(files[0], datasets_dir=_datasets_dir(), name=files[0].name)
        else:
            unpacked = unpack([(f.name, f.getvalue()) for f in files], datasets_dir=_datasets_dir())
    except SerError as exc:
        st.session_state["nd_error"] = str(exc)
        return
    st.session_state["nd_unpacked"], st.session_state["nd_lease"] = unpacked, hold(unpacked)
    st.session_state["nd_name"] = _suggested_name(files[0].name if len(files) == 1 else "my-dataset")


def _save(labels) -> None:
    from ser.datasets.importing import save_dataset

    unpacked = st.session_state.get("nd_unpacked")
    try:
        name = st.session_state.get("nd_name", "")
        target = save_dataset(unpacked, labels, name=name, datasets_dir=_datasets_dir(),
                              overwrite=st.session_state.get(f"nd_overwrite_{name}", False), by=who())
    except SerError as exc:
        st.session_state["nd_save_error"] = str(exc)
        return
    for key in ("nd_unpacked", "nd_key", "nd_save_error", f"nd_overwrite_{name}"):
        st.session_state.pop(key, None)
    st.session_state["nd_uploader_n"] = st.session_state.get("nd_uploader_n", 0) + 1  # an empty uploader
    st.session_state["nd_saved"] = f"Saved {len(labels)} clips as {short(target)}."
    _open_dataset(target / "all_labels.csv")


def new_dataset_from_files() -> None:
    """Upload a zip (or audio files), see what it holds, and save it as a dataset."""
    import pandas as pd

    from ser.datasets.importing import Limits, plan_labels, preview

    limits = Limits()
    st.subheader("New dataset from files")
    st.caption("Upload a **.zip** of clips (or several audio files). Labels come from an `all_labels.csv` in it "
               "(`path, emotion, speaker`), from one folder per emotion (`angry/…`, `Happy/…`), or from a known "
               "corpus's file names (RAVDESS, CREMA-D, TESS, EmoDB). Nothing is saved until you press **Save**. "
               f"Up to {limits.max_files:,} files and {limits.max_total_mb:,.0f} MB unpacked; links, paths outside "
               "the zip and files that are not audio are refused.")
    files = st.file_uploader("Zip or audio files", type=["zip", "wav", "flac", "ogg", "mp3"],
                             accept_multiple_files=True, key=f"nd_files_{st.session_state.get('nd_uploader_n', 0)}")
    if not files:
        _drop_upload()
        return
    _unpack(files)
    if st.session_state.get("nd_error") or "nd_unpacked" not in st.session_state:
        st.error(md(st.session_state.get("nd_error") or "The upload could not be unpacked; upload it again."))
        st.session_state.pop("nd_key", None)  # a rerun tries again
        return
    unpacked = st.session_state["nd_unpacked"]
    kw = {}
    if not unpacked.labels_csv:
        c1, c2 = st.columns([1, 2])
        source = c1.radio("Speakers come from", list(SPEAKER_CHOICES), format_func=SPEAKER_CHOICES.get,
                          key="nd_speaker_from")
        kw["speaker_from"] = source
        if source == "folder":
            kw["speaker_level"] = c2.number_input("Folder level (1 = the outermost folder)", 1, 10, 2, key="nd_level")
        elif source == "pattern":
            kw["speaker_pattern"] = c2.text_input("Pattern in the file name (a regular expression; its first group "
                                                  "is the speaker)", r"^([^_-]+)[_-]", key="nd_pattern")
        kw["emotion"] = c2.selectbox("If the files name no emotion, all of them are", ["(none)", *EMOTIONS],
                                     key="nd_one_emotion")
        kw["emotion"] = None if kw["emotion"] == "(none)" else kw["emotion"]
    # once per upload and layout (every clip is opened): a rerun for another widget reuses it
    preview_key = (str(unpacked.folder), tuple(sorted(kw.items())))
    cached = st.session_state.get("nd_preview")
    if not cached or cached[0] != preview_key:
        try:
            cached = (preview_key, preview(unpacked, plan_labels(unpacked, **kw)))
        except SerError as exc:
            cached = (preview_key, str(exc))
        st.session_state["nd_preview"] = cached
    shown = cached[1]
    if isinstance(shown, str):
        st.error(md(shown))
        return
    labels = shown["labels"]
    st.markdown(f"**Preview** — labels from: *{shown['layout']}*")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Clips to save", len(labels))
    m2.metric("Speakers", labels["speaker"].replace("", pd.NA).nunique())
    m3.metric("Unreadable", len(shown["problems"]))
    m4.metric("Without an emotion", len(shown["unlabelled"]))
    if len(labels):
        st.caption("Clips per speaker and emotion")
        st.dataframe(shown["counts"], width="stretch", key="nd_counts")
    if shown["problems"] or shown["unlabelled"]:
        st.warning("These files are left out:")
        left_out = [{"file": p.path, "why": p.problem} for p in shown["problems"]]
        left_out += [{"file": path, "why": why} for path, why in shown["unlabelled"]]
        st.dataframe(pd.DataFrame(left_out), hide_index=True, width="stretch")
    if unpacked.skipped:
        st.caption(f"{len(unpacked.skipped)} system file(s) skipped (`__MACOSX`, `.DS_Store`, …).")
    st.text_input("Dataset name", key="nd_name", help="Letters, digits, '.', '_' or '-'; it becomes a folder "
                                                       f"under {md(short(_datasets_dir()))}.")
    name = st.session_state.get("nd_name", "")
    exists = bool(name) and (_datasets_dir() / name).is_dir()
    read_only = why_read_only(_datasets_dir() / name) if exists else None
    if read_only:  # protected, or another visitor's: no confirmation can replace it
        st.caption(md(read_only))
    elif exists:  # one confirmation per name: ticking it for one name never replaces another
        st.checkbox(f"Replace the existing dataset “{md(name)}”", key=f"nd_overwrite_{name}")
    st.button("Save dataset", type="primary", on_click=_save, args=(labels,), key="nd_save",
              disabled=not len(labels) or bool(read_only)
              or (exists and not st.session_state.get(f"nd_overwrite_{name}")))
    if st.session_state.get("nd_save_error"):
        st.error(md(st.session_state.pop("nd_save_error")))


def _keep(dataset: Path, audio: bytes) -> None:
    from ser.datasets.recording import add_recording

    try:
        rel = add_recording(dataset, audio, speaker=st.session_state.get("rec_speaker", ""),
                            emotion=st.session_state.get("rec_emotion", ""), name="the recording", by=who())
    except SerError as exc:
        st.session_state["rec_error"] = str(exc)
        return
    st.session_state["rec_saved"] = f"Kept {rel}."
    st.session_state["rec_n"] = st.session_state.get("rec_n", 0) + 1  # a fresh recorder for the next clip


def _discard() -> None:
    st.session_state["rec_n"] = st.session_state.get("rec_n", 0) + 1


def record_clips() -> None:
    """Record labelled clips with the microphone into a dataset, with a count of what is still missing."""
    import pandas as pd

    from ser.paths import check_name
    from ser.datasets.labels import MIN_CLIPS_PER_EMOTION, MIN_SPEAKERS_PER_EMOTION
    from ser.datasets.recording import collection_status

    st.subheader("Record clips")
    st.caption("Pick who speaks and which emotion to act, record, listen, then keep or discard. Kept clips are "
               "saved as 16-bit WAV with a row in the dataset's `all_labels.csv`. Record a few of each emotion, "
               "train on the **Train** page, and try the model on the **Predict** page.")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Dataset", "my-voices", key="p_rec_dataset")
    c2.text_input("Speaker", key="rec_speaker", placeholder="e.g. anna")
    c3.selectbox("Emotion", EMOTIONS, key="rec_emotion")
    try:
        dataset = _datasets_dir() / check_name(name, what="dataset name")
    except SerError as exc:
        st.error(md(exc))
        return
    read_only = why_read_only(dataset)
    if read_only:
        st.info(md(read_only))
    audio = st.audio_input(f"Say a sentence as **{st.session_state.get('rec_emotion', EMOTIONS[0])}**",
                           key=f"rec_audio_{st.session_state.get('rec_n', 0)}")
    if audio is not None:
        k1, k2, _ = st.columns([1, 1, 4])
        k1.button("Keep", type="primary", on_click=_keep, args=(dataset, audio.getvalue()), key="rec_keep",
                  disabled=bool(read_only) or not st.session_state.get("rec_speaker", "").strip())
        k2.button("Discard", on_click=_discard, key="rec_discard")
        if not st.session_state.get("rec_speaker", "").strip():
            st.info("Type the speaker's name to keep this clip.")
    if st.session_state.get("rec_error"):
        st.error(md(st.session_state.pop("rec_error")))
    if st.session_state.get("rec_saved"):
        st.success(md(st.session_state.pop("rec_saved")))
    csv = dataset / "all_labels.csv"
    if not csv.is_file():
        st.caption(f"No clip in “{md(name)}” yet.")
        return
    from pages._ui.datasets import labels_or_error

    labels, _ = labels_or_error(str(csv))
    if labels is None:
        return
    status = collection_status(list(zip(labels["emotion"].fillna(""), labels["speaker"])))
    st.markdown(f"**{len(labels)} clips in “{md(name)}”** — a speaker split needs at least "
                f"{MIN_CLIPS_PER_EMOTION} clips of each emotion from at least {MIN_SPEAKERS_PER_EMOTION} speakers "
                "(one each for training, validation and test); more of each make a better model.")
    st.dataframe(pd.DataFrame({"clips": status.per_emotion, "speakers": status.speakers_per_emotion}).T,
                 width="stretch", key="rec_counts")
    if status.missing:
        st.caption("Still missing: " + md("; ".join(status.missing[:8])) + ("…" if len(status.missing) > 8 else ""))
    else:
        st.success("Enough for a training with a speaker split.")
    st.dataframe(labels[["path", "emotion", "speaker", "duration_s"]], hide_index=True, width="stretch",
                 height=200, key="rec_table")
    st.button("Browse this dataset", on_click=_open_dataset, args=(csv,), key="rec_open")
