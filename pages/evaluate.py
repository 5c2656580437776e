"""Evaluate: how well a trained model does on voices it never heard."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from pages._ui.datasets import DEMO_LABELS, dataset_picker
from pages._ui.models import model_picker
from pages._ui.plots import probability_figure
from ser.results.figures import (confusion_figure, curves_figure, f1_comparison_figure, f1_figure, robustness_figure,
                                 training_history)
from ser.results.summary import (chance_level, emotions_present, held_out_speakers, misclassified, per_class_table,
                                 per_corpus_table)
from pages._ui.state import models_dir, setup, short
from pages._ui.text import md
from ser import SerError
from ser.model_folder import DOWNLOAD_FILES, ModelFolder
from ser.results.evaluate import clip_folders, read_results
from ser.training.runs import list_models

setup()
st.title("📊 Evaluate")
st.caption("Scores on held-out test clips: by default of speakers whose voices the model never heard while "
           "training (a model trained with a clip split says so below; a personal model, tuned to one voice, "
           "shows an estimate on its own clips instead).")


def model_stamp(model_dir: Path) -> str:
    """Changes whenever the model is replaced (a new training installs new files)."""
    return ModelFolder(model_dir).fingerprint()


def derived_dir(model_dir: Path) -> Path:
    """Where this page keeps what it measures about a model (never inside the model's folder)."""
    return ModelFolder(model_dir).derived_dir()


@st.cache_data(show_spinner=False, max_entries=2)
def html_report(model_dir: str, stamp: str) -> str:
    """The stakeholders' report (:func:`ser.results.report.build_report`), built on the first click, then cached."""
    from ser.results.report import build_report

    return build_report(model_dir)


@st.cache_data(show_spinner=False, max_entries=2)
def model_zip(model_dir: str, stamp: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in DOWNLOAD_FILES:
            if (Path(model_dir) / f).is_file():
                z.write(Path(model_dir) / f, f)
    return buf.getvalue()


def headline(col, name: str, data: dict) -> None:
    r = data["report"]
    col.metric(f"{name}: accuracy", f"{r['accuracy']:.1%}")
    col.metric(f"{name}: macro F1", f"{r['macro_f1']:.1%}",
               help="The F1 score averaged over emotions, each counting equally.")


@st.cache_data(show_spinner="Applying the condition…", max_entries=32)
def condition_example(path: str, name: str, others: tuple[str, ...]):
    from pages._ui.clips import finished_clips, recorded_clip
    from ser.augment.transforms import CONDITIONS, apply_condition

    raw, sr = recorded_clip(path, name=Path(path).name)
    sources = finished_clips(others) if CONDITIONS[name].needs_babble else []
    return apply_condition(raw, name, sr=sr, rng=np.random.default_rng(0), babble_sources=sources), sr


def robustness_section(model_dir: Path) -> None:
    """The robustness chart, a sentence, and each condition to play on an example clip."""
    from ser.augment.transforms import CONDITIONS
    from ser.results.robustness import ROBUSTNESS_FILE

    st.subheader("Robustness: does it still hear the emotion when the recording changes?")
    file = ModelFolder(model_dir).robustness_file
    measured = derived_dir(model_dir) / ROBUSTNESS_FILE  # measured here: kept beside, never inside, the model
    rob = next((json.loads(f.read_text()) for f in (file, measured) if f.is_file()), None)
    if rob is None:
        st.info("This model has no robustness report yet: it was trained before the check existed. Measure it "
                "(about a minute for a hundred clips).")
        from ser.results.robustness import robustness_clips

        clips, split = robustness_clips(model_dir)  # its own test speakers where it can, else the demo clips
        target = "its test speakers" if split == "test" else "the demo clips"
        if st.button(f"Measure robustness on {target}", key="ev_rob_go"):
            from ser.results.robustness import measure_robustness

            bar = st.progress(0.0, text="Scoring clips under every condition…")

            def show(e: dict) -> None:
                if e.get("stage") == "robustness":
                    bar.progress(e["step"] / max(e["total"], 1),
                                 text=f"{e['step']} of {e['total']} clips under {len(CONDITIONS)} conditions")
            try:
                measure_robustness(model_dir, clips, split=split, out=measured, progress=show)
                st.rerun()
            except SerError as exc:
                st.error(md(exc))
        return
    rows = rob["conditions"]
    where = (f"{rob['n_clips']} test clips of speakers the model never heard" if rob.get("split") == "test"
             else f"{rob['n_clips']} clips of {md(short(rob.get('labels', '?')))}")
    st.caption(f"The same {where}, changed only in how they were recorded. Bars: accuracy and macro F1 under each "
               "condition; the dashed line is accuracy on the clips as recorded. Hover for how often the answer "
               "stays the one given to the clean clip.")
    st.markdown(f"**{md(rob['summary'])}**")
    st.plotly_chart(robustness_figure(rows), width="stretch", key="rob_chart")
    table = pd.DataFrame(rows)[["label", "accuracy", "macro_f1", "uar", "agreement"]].rename(
        columns={"label": "condition", "macro_f1": "macro F1", "uar": "UAR", "agreement": "same answer as clean"})
    probes = rob.get("non_speech") or {}
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(table.style.format({c: "{:.0%}" for c in table.columns if c != "condition"}),
                     hide_index=True, width="stretch")
        if probes:
            st.caption("With no voice at all: " + "; ".join(
                f"{k} → " + (f"{v['emotion']} ({v['confidence']:.0%})" if v.get("emotion") else
                             "no speech detected" if v.get("refused") == "no speech detected" else "refused")
                for k, v in probes.items()) + ".")
    with right:
        from ser.results.robustness import example_for_conditions

        example = example_for_conditions(DEMO_LABELS)
        name = st.selectbox("Hear a condition on an example clip", list(CONDITIONS), key="p_ev_rob_cond",
                            format_func=lambda n: CONDITIONS[n].label)
        try:
            y, sr = condition_example(str(example.path), name, tuple(str(p) for p in example.babble))
            st.audio(np.clip(y, -1, 1), sample_rate=sr)
            st.caption(f"{md(example.name)} · acted as **{md(example.emotion)}**")
        except SerError as exc:
            st.error(md(exc))


model_dir = model_picker("Run")
if model_dir is None:
    st.stop()
data = read_results(model_dir)
if data["report"] is None:
    st.warning(f"{md(short(model_dir))} has no report.json; its training did not reach evaluation.")
    st.stop()
report, run = data["report"], data["run"]
if ModelFolder(model_dir).is_personal():  # made by "Tune to my voice": its adaptation, not a training's test report
    from pages._ui.personal import personal_evaluation

    personal_evaluation(model_dir, data)
    st.stop()
split_speakers = ", ".join(held_out_speakers(data["split"]))
present = emotions_present(report)
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Accuracy", f"{report['accuracy']:.1%}", help="Share of test clips whose emotion was predicted right.")
c2.metric("Macro F1", f"{report['macro_f1']:.1%}",
          help=f"F1 averaged over the {len(present)} emotions present in the test clips, each counting equally.")
c3.metric("UAR", f"{report['uar']:.1%}" if "uar" in report else "–",
          help="Unweighted average recall: the share found of each emotion, averaged over the emotions present. "
               "The field's usual headline; chance is 1 in the number of emotions.")
c4.metric("Test clips", report["n_clips"])
c5.metric("Chance level", f"{chance_level(report):.1%}", help="Guessing at random among the emotions present.")
if report.get("emotions_absent"):
    st.caption(f"No test clip is {', '.join(report['emotions_absent'])}: macro F1 and UAR average over the "
               "other emotions only.")
st.caption(f"Preset **{data['config'].get('train', {}).get('preset', '?')}** · trained in "
           f"{run.get('wall_s', '?')} s · test speakers: {md(split_speakers or 'n/a')}"
           + (f" · {report['n_skipped']} clips skipped" if report.get("n_skipped") else ""))
if report.get("per_corpus"):
    st.subheader("Per corpus")
    st.dataframe(per_corpus_table(report["per_corpus"]), hide_index=True, width="stretch", key="ev_corpora")
    st.caption("Each corpus's own test speakers. *Restricted UAR*: the answer among the corpus's own emotions only, "
               "as cross-corpus studies report it; *most frequent answer*: a corpus whose emotions are balanced should "
               "not get one emotion far more than the others.")
if report.get("speakers_overlap"):
    st.caption("⚠️ Clip split: speakers overlap. The test clips' voices were also heard in training, so these "
               "scores are higher than on voices the model never heard.")

left, right = st.columns([3, 2])
with left:
    st.subheader("Confusion matrix")
    norm = st.toggle("Show shares of each true emotion (rows add up to 100%)", value=True, key="p_ev_norm")
    st.plotly_chart(confusion_figure(report, normalise=norm), width="stretch")
with right:
    st.subheader("Per emotion")
    st.dataframe(per_class_table(report).style.format({"precision": "{:.0%}", "recall": "{:.0%}", "f1": "{:.0%}",
                                                    "accuracy": "{:.0%}"}), width="stretch", height=330)
    st.plotly_chart(f1_figure(report["per_class"]), width="stretch")

robustness_section(model_dir)

if data["history"] is not None:
    st.subheader("Training curves")
    h = training_history(data["history"])
    if h["member"].nunique() > 1:
        st.caption(f"This model averages {h['member'].nunique()} networks trained from different random "
                   "starts; each line is one of them.")
    a, b = st.columns(2)
    for col, metric in ((a, "loss"), (b, "accuracy")):
        col.plotly_chart(curves_figure(data["history"], metric=metric), width="stretch")

preds = data["predictions"]
if preds is not None and len(preds):
    wrong = misclassified(preds)
    st.subheader(f"Misclassified test clips ({len(wrong)} of {len(preds)})")
    from ser.paths import find_clip

    clips = [find_clip(p, clip_folders(run)) for p in wrong["path"]]
    if len(wrong):
        wrong = wrong.assign(audio=["▶ here" if c else "not on this machine" for c in clips])
        st.dataframe(wrong[["path", "true", "predicted", "audio"]], hide_index=True, width="stretch", height=220)
        first = next((k + 1 for k, c in enumerate(clips) if c), 1)  # start on one that plays
        i = st.number_input("Listen to misclassified clip number", 1, len(wrong), first, key="ev_wrong_i") - 1
        row = wrong.iloc[i]
        x, y = st.columns([1, 2])
        with x:
            st.markdown(f"**{md(row['path'])}**  \ntrue **{md(row['true'])}**, predicted **{md(row['predicted'])}**")
            if clips[i]:
                st.audio(str(clips[i]))
            else:
                st.caption("(this clip is not on this machine: neither in the model's dataset folder, nor among "
                           "the demo clips, nor in a folder the dashboard may read)")
        probs = {e: float(row[e]) for e in report["confusion"]["labels"] if e in row}
        y.plotly_chart(probability_figure(probs, height=240), width="stretch")

st.subheader("Compare two runs")
others = [m.name for m in list_models(models_dir()) if m != model_dir]
if others:
    other = st.selectbox("Compare with", others, key="p_ev_other")
    od = read_results(models_dir() / other)
    if od["report"]:
        a, b = st.columns(2)
        headline(a, model_dir.name, data)
        headline(b, other, od)
        st.plotly_chart(f1_comparison_figure({model_dir.name: report["per_class"], other: od["report"]["per_class"]}),
                        width="stretch")
        if ModelFolder(models_dir() / other).is_personal():
            st.caption(f"“{md(other)}” is a personal model: its scores are an estimate on its own speaker's clips "
                       "(leave one clip out), not on this run's test speakers. Pick it above to see it beside the "
                       "model it was adapted from.")
else:
    st.caption("Train another run to compare it with this one.")

st.subheader("Downloads")
st.download_button("📄 Download report (HTML, for people without the app)",
                   lambda: html_report(str(model_dir), model_stamp(model_dir)), type="primary",
                   file_name=f"{model_dir.name}-report.html", mime="text/html", on_click="ignore", key="ev_report")
st.caption("One file that opens offline in any browser: a model card (what it does and does not do, data, split, "
           "settings), the scores and confusion matrix, training curves, robustness, misclassified clips to "
           "listen to, and known limitations. Also `python -m ser report --model MODEL --out report.html`.")
from ser.csvsafe import to_csv_text as _csv_text  # noqa: E402  (cells that are formulas stay text)

d1, d2, d3 = st.columns(3)
d1.download_button("Report (JSON)", json.dumps(report, indent=2), file_name=f"{model_dir.name}-report.json",
                   mime="application/json")
d2.download_button("Per-emotion scores (CSV)", _csv_text(per_class_table(report), index=True),
                   file_name=f"{model_dir.name}-scores.csv", mime="text/csv")
d3.download_button("Model (zip: model.keras, model.h5, config.json)",
                   lambda: model_zip(str(model_dir), model_stamp(model_dir)),  # built on click, then cached
                   file_name=f"{model_dir.name}-model.zip", mime="application/zip", on_click="ignore")

with st.expander("Evaluate this model on another labelled folder"):
    from pages._ui.choice import BAD, answer_among

    csv = dataset_picker("Labelled folder")
    among = answer_among(data["config"].get("emotions") or report["confusion"]["labels"], key="p_ev_answer_among",
                         help="Score only the clips of these emotions, the answer the most likely of them "
                              "(probabilities renormalised over them).")
    if st.button("Evaluate", key="ev_other_go") and csv and among is not BAD:
        from ser.results.evaluate import evaluate_model

        out = derived_dir(model_dir) / "evaluations" / Path(csv).parent.name  # not inside the installed model
        try:
            with st.spinner("Extracting features and predicting…"):
                r = evaluate_model(model_dir, csv, out, emotions=among)
            chosen = f", answers among {', '.join(r['emotions_chosen'])}" if r.get("emotions_chosen") else ""
            st.success(f"Accuracy {r['accuracy']:.1%}, macro F1 {r['macro_f1']:.1%}, UAR {r['uar']:.1%} on "
                       f"{r['n_clips']} clips "
                       f"({r['n_skipped']} skipped{chosen}) of {md(short(csv))}.")
            st.plotly_chart(confusion_figure(r, normalise=True), width="stretch")
        except SerError as exc:
            st.error(md(exc))
