"""Train: start a training run from the browser and watch it learn."""

import time
from pathlib import Path

import streamlit as st

from pages._ui.datasets import dataset_picker, known_datasets
from pages._ui.operator import who
from pages._ui.state import models_dir, setup, short
from pages._ui.text import md
from ser import SerError
from ser.access import why_not_change, why_not_stop
from ser.datasets.labels import MIN_SPEAKERS_PER_EMOTION
from ser.paths import check_name
from ser.results.figures import progress_curves_figure
from ser.augment.transforms import CONDITIONS
from ser.config import PRESET_TABLE, SPLIT_MODES, TrainConfig, for_preset
from ser.model_folder import ModelFolder
from ser.training.progress import read_events, summarise
from ser.training.runs import current_run, request_stop, start_training_process

setup()
st.title("🏋️ Train a model")
st.caption("Training runs in the background: you can switch pages or close the browser and come back. "
           "A new model replaces an old one of the same name only when it finishes.")

DEFAULTS = TrainConfig()  # the page's starting values are the config's own


def fmt_s(s: float | None) -> str:
    if s is None:
        return "–"
    s = int(s)
    return f"{s // 3600}h {s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m {s % 60:02d}s"


run = current_run(models_dir())
running = bool(run and run["running"])

def show_run() -> None:
    record = current_run(models_dir())
    if not record:
        st.info("No training has been run here yet. Choose the settings above and press **Start training**.")
        return
    s = summarise(read_events(record["progress"]))
    is_running = record["running"]
    st.subheader(f"Run “{md(record['name'])}” — " + ("running" if is_running else record["status"]))
    start = s["start"] or {}
    if start:
        counts = start.get("counts", {})
        parts = " · ".join(f"{counts.get(k, 0)} {label}" for k, label in
                           (("train", "training"), ("val", "validation"), ("test", "test")))
        source = (f"{len(start['corpora'])} corpora ({', '.join(start['corpora'])})" if start.get("corpora")
                  else short(start.get("labels", "")))
        st.caption(f"{start.get('n_clips', '?')} clips from {md(source)} · split by "
                   f"{start.get('split_mode')}: {parts} · preset {start.get('preset')}"
                   + (f" · {md(start['skipped'])}" if start.get("skipped") else ""))
        if start.get("speakers_overlap"):
            st.caption("⚠️ Clip split: speakers overlap, so the test scores are on voices heard in training.")
    if s["features"]:
        done, total = s["features"]
        st.progress(done / max(total, 1), text=f"Extracting features: {done} of {total} clips")
    n_epochs = len(s["epochs"])
    if s["epoch_total"]:
        text = f"Epoch {n_epochs} of at most {s['epoch_total']}"
        if s["members"] > 1:
            text = f"Model {s['member']} of {s['members']} · " + text
        if s["batch"] and is_running:
            text += f" · batch {s['batch'][0]}/{s['batch'][1]} of epoch {n_epochs + 1}"
        st.progress(min(1.0, n_epochs / s["epoch_total"]), text=text)
    if s["robustness"]:
        done, total = s["robustness"]
        st.progress(done / max(total, 1), text=f"Robustness check: {done} of {total} test clips under "
                                                 f"{len(CONDITIONS)} recording conditions")
    m1, m2, m3, m4 = st.columns(4)
    last = s["epochs"][-1] if s["epochs"] else {}
    m1.metric("Elapsed", fmt_s(s["elapsed_s"]))
    m2.metric("Remaining (at most)", fmt_s(s["eta_s"]) if is_running else "–",
              help="If every epoch runs; early stopping usually ends sooner.")
    m3.metric("Learning rate", f"{last['lr']:.2g}" if last else "–")
    m4.metric("Validation accuracy", f"{last['val_accuracy']:.1%}" if last else "–")
    if s["epochs"]:
        st.plotly_chart(progress_curves_figure(s["epochs"]), width="stretch")
    if is_running:
        not_yours = why_not_stop(record["staging"], who())
        if not_yours:  # another visitor's run (or the command line's): only they or the operator stop it
            st.caption(not_yours)
        elif st.button("⏹ Stop training", type="secondary"):
            try:
                request_stop(models_dir(), by=who())
                st.toast("Stopping after the current batch…")
            except SerError as exc:
                st.error(md(exc))
    elif record["status"] == "done":
        st.success(f"Finished in {fmt_s(s['elapsed_s'])}. Held-out test accuracy "
                   f"{_score(record, 'accuracy')}, macro F1 {_score(record, 'macro_f1')}, "
                   f"UAR {_score(record, 'uar')}.")
        st.session_state["p_model"] = record["name"]
        st.page_link("pages/evaluate.py", label=f"Open the report of “{record['name']}”", icon="📊")
    elif record["status"] == "stopped":
        st.warning("Stopped. Nothing was saved; any earlier model of this name is unchanged.")
    else:
        st.error(f"Training failed: {md(record.get('error') or 'see the log')}. "
                 "Any earlier model of this name is unchanged.")
        log = ModelFolder(record["staging"]).log_file
        if log.is_file():
            with st.expander("Technical log"):
                st.code(log.read_text()[-4000:])
    if st.session_state.get("was_running") and not is_running:
        st.session_state["was_running"] = False
        st.rerun()  # full rerun: re-enable Start and stop refreshing
    st.session_state["was_running"] = is_running


SPLIT_LABELS = {"speaker": "by speaker (test voices never heard)", "clip": "by clip (speakers overlap)"}


@st.cache_data(show_spinner=False, max_entries=4)
def data_allows(csv: str, mtime: float):
    """:func:`ser.datasets.labels.training_verdict` of one version of ``csv``: read once, not on every
    rerun (the page reruns every second while a run is followed)."""
    from ser.datasets.labels import read_usable, training_verdict

    return training_verdict(read_usable(csv)[1])


def what_the_data_allows(csvs: list[str]) -> tuple[str | None, str | None]:
    """Say before training what ``csvs`` (one dataset, or several corpora each split by its own speakers)
    allow; return (why it cannot be trained, why not by speaker)."""
    if not csvs:
        return None, None
    from ser.datasets.labels import combined_verdict

    found = {}
    for csv in csvs:
        try:
            found[short(csv)] = data_allows(csv, Path(csv).stat().st_mtime if Path(csv).is_file() else 0.0)
        except SerError as exc:
            st.error(md(exc))
            return str(exc), None
    several = len(csvs) > 1
    verdict = combined_verdict(found)  # with several corpora, a problem names its corpus
    cannot, no_speakers, n_speakers = verdict.cannot, verdict.no_speaker_split, verdict.speakers
    if cannot:
        st.error(f"This dataset cannot be trained on: {md(cannot)}.")
    elif no_speakers:
        st.warning(f"A speaker split is not possible: {md(no_speakers)}. To train anyway choose Split “by clip”: "
                   "speakers will overlap, and the test scores will be on voices heard in training.")
    else:
        st.caption(f"Split by speaker possible: {n_speakers} speakers, at least {MIN_SPEAKERS_PER_EMOTION} of every emotion"
                   + (f" in each of the {len(csvs)} corpora, each split by its own speakers; a corpus's missing "
                      "emotions do not count against it in training" if several else "")
                   + ", so the test voices are never heard in training.")
    return cannot, no_speakers


def settings() -> None:
    """The training settings and the Start button."""
    csv = dataset_picker("Dataset to train on")
    others = [d for d in known_datasets() if d != csv]
    st.session_state["p_tr_more"] = [d for d in st.session_state.get("p_tr_more", []) if d in others]
    more = st.multiselect("Also train on (other corpora)", others, key="p_tr_more", format_func=short,
                          help="Several corpora train one model: each keeps its speakers (split within it, so each "
                               "has test speakers) and its own emotions, and the scores are given per corpus.")
    csvs = [csv, *more] if csv else []
    cannot, no_speakers = what_the_data_allows(csvs)
    if st.session_state.get("p_tr_split") not in SPLIT_MODES:  # "auto" from before: by speaker
        st.session_state["p_tr_split"] = "speaker"
    with st.form("train_form", border=True):
        c1, c2, c3 = st.columns(3)
        for key, default in {"p_tr_preset": DEFAULTS.preset, "p_tr_epochs": DEFAULTS.epochs,
                             "p_tr_batch": DEFAULTS.batch_size, "p_tr_lr": 0.0, "p_tr_patience": DEFAULTS.patience_epochs,
                             "p_tr_augment": True, "p_tr_split": DEFAULTS.split_mode, "p_tr_ensemble": 0,
                             "p_tr_name": time.strftime("run-%Y%m%d-%H%M")}.items():
            st.session_state.setdefault(key, default)
        preset = c1.selectbox("Model preset", list(PRESET_TABLE), key="p_tr_preset", format_func=str.capitalize,
                              help="\n\n".join(f"**{k}**: {v.description}" for k, v in PRESET_TABLE.items()))
        epochs = c2.number_input("Epochs (at most)", 1, 1000, key="p_tr_epochs",
                                 help="Training stops earlier when validation stops improving.")
        batch = c3.number_input("Batch size", 1, 512, key="p_tr_batch")
        lr = c1.number_input("Learning rate (0 = the preset's)", 0.0, 0.1, key="p_tr_lr", format="%.5f",
                             help="Default: " + ", ".join(f"{k} {v.learning_rate:g}" for k, v in PRESET_TABLE.items()))
        patience = c2.number_input("Early-stopping patience (epochs)", 1, 500, key="p_tr_patience")
        split = c3.selectbox("Split", SPLIT_MODES, key="p_tr_split", format_func=SPLIT_LABELS.get,
                             help="By speaker: whole speakers are held out, so the test voices are never heard in "
                                  f"training; needs every clip's speaker and at least {MIN_SPEAKERS_PER_EMOTION} speakers "
                                  "of every emotion. "
                                  "By clip: only when you choose it; speakers overlap and the reports say so.")
        ensemble = c1.number_input("Networks averaged (0 = the preset's)", 0, 10, key="p_tr_ensemble",
                                   help="Train this many networks from different random starts and average "
                                        "their answers: steadier, and each one adds a training run. Default: "
                                   + ", ".join(f"{k} {v.ensemble_size}" for k, v in PRESET_TABLE.items()))
        augment = c2.checkbox("Augment training clips (rooms, noise, phone lines, stretch, pitch)", key="p_tr_augment",
                              help="Training hears each training clip as recorded and three more ways; "
                                   "the Augmentations page plays them.")
        name = c3.text_input("Run name", key="p_tr_name", help="The model is saved in models/<name>.")
        start = st.form_submit_button("▶ Start training", type="primary", disabled=running)
    if (models_dir() / name).exists():
        read_only = why_not_change(models_dir() / name, who(), what="model")
        st.caption(md(read_only) if read_only else
                   f"A model named “{md(name)}” exists; it will be replaced only if the new run finishes.")

    if start:
        try:
            check_name(name, what="run name")
            bad_name = None
        except SerError as exc:
            bad_name = str(exc)
        if bad_name:
            st.error(md(bad_name))
        elif not csv:
            st.error("Choose a dataset first.")
        elif cannot:
            st.error(f"Not started: {md(cannot)}")
        elif split == "speaker" and no_speakers:
            st.error(f"Not started: a speaker split is not possible ({md(no_speakers)}). Choose Split “by clip” to "
                     "train with speakers overlapping.")
        else:
            try:  # the run trains with exactly this config (ser train --config); 0 or None: the preset's own
                config = for_preset(preset, epochs=int(epochs), batch_size=int(batch), learning_rate=float(lr) or None,
                                    patience_epochs=int(patience), split_mode=split, augment=bool(augment),
                                    ensemble_size=int(ensemble) or None)
                start_training_process(labels=csvs if len(csvs) > 1 else csv, models_dir=models_dir(), name=name,
                                       config=config, by=who())
                st.rerun()
            except SerError as exc:
                st.error(md(exc))


def _score(record: dict, key: str) -> str:
    """One of a finished run's test scores, as the run's status (:func:`current_run`) gives them."""
    value = (record.get("scores") or {}).get(key)
    return f"{value:.1%}" if isinstance(value, float) else "–"


st.fragment(run_every=2 if running else None)(show_run)()  # the run first: it is what people come back for
st.subheader("Settings for a new run")
settings()
