"""Evaluate: how well a trained model does on voices it never heard."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages._shared import EMOTION_COLORS, dataset_picker, models_dir, model_picker, setup, short
from ser import SerError
from ser.runs import list_models

setup()
st.title("📊 Evaluate")
st.caption("Scores on the test speakers: people whose voices the model never heard while training.")


def read_run(model_dir: Path) -> dict:
    def j(name):
        p = model_dir / name
        return json.loads(p.read_text()) if p.is_file() else None

    def c(name):
        p = model_dir / name
        return pd.read_csv(p) if p.is_file() else None

    return {"report": j("report.json"), "run": j("run.json") or {}, "config": j("config.json") or {},
            "history": c("history.csv"), "predictions": c("predictions.csv"), "split": c("split.csv")}


def confusion_figure(report: dict, *, normalise: bool) -> go.Figure:
    labels = report["confusion"]["labels"]
    cm = np.array(report["confusion"]["matrix"], dtype=float)
    if normalise:
        z = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        text = [[f"{v:.0%}" for v in row] for row in z]
    else:
        z, text = cm, [[f"{int(v)}" for v in row] for row in cm]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, text=text, texttemplate="%{text}", colorscale="Blues",
                               hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>"))
    fig.update_layout(height=480, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="predicted emotion", yaxis_title="true emotion", yaxis_autorange="reversed")
    return fig


def class_table(report: dict) -> pd.DataFrame:
    t = pd.DataFrame(report["per_class"]).T[["precision", "recall", "f1", "accuracy", "support"]]
    t["support"] = t["support"].astype(int)
    return t


def headline(col, name: str, data: dict) -> None:
    r = data["report"]
    col.metric(f"{name}: accuracy", f"{r['accuracy']:.1%}")
    col.metric(f"{name}: macro F1", f"{r['macro_f1']:.1%}",
               help="The F1 score averaged over emotions, each counting equally.")


model_dir = model_picker("Run")
if model_dir is None:
    st.stop()
data = read_run(model_dir)
if data["report"] is None:
    st.warning(f"{short(model_dir)} has no report.json; its training did not reach evaluation.")
    st.stop()
report, run = data["report"], data["run"]
split_speakers = ""
if data["split"] is not None and "speaker" in data["split"]:
    test = data["split"][data["split"].split == "test"]
    split_speakers = ", ".join(sorted(str(s) for s in test.speaker.dropna().unique()))
c1, c2, c3, c4 = st.columns(4)
c1.metric("Accuracy", f"{report['accuracy']:.1%}", help="Share of test clips whose emotion was predicted right.")
c2.metric("Macro F1", f"{report['macro_f1']:.1%}", help="F1 averaged over the 8 emotions, each counting equally.")
c3.metric("Test clips", report["n_clips"])
c4.metric("Chance level", f"{1 / len(report['confusion']['labels']):.1%}", help="Guessing at random.")
st.caption(f"Preset **{data['config'].get('train', {}).get('preset', '?')}** · trained in "
           f"{run.get('wall_s', '?')} s · test speakers: {split_speakers or 'n/a'}"
           + (f" · {report['n_skipped']} clips skipped" if report.get("n_skipped") else ""))

left, right = st.columns([3, 2])
with left:
    st.subheader("Confusion matrix")
    norm = st.toggle("Show shares of each true emotion (rows add up to 100%)", value=True, key="p_ev_norm")
    st.plotly_chart(confusion_figure(report, normalise=norm), width="stretch")
with right:
    st.subheader("Per emotion")
    st.dataframe(class_table(report).style.format({"precision": "{:.0%}", "recall": "{:.0%}", "f1": "{:.0%}",
                                                    "accuracy": "{:.0%}"}), width="stretch", height=330)
    t = class_table(report).reset_index(names="emotion")
    fig = px.bar(t, x="emotion", y="f1", color="emotion", color_discrete_map=EMOTION_COLORS, title="F1 by emotion")
    fig.update_layout(showlegend=False, height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      yaxis_tickformat=".0%", yaxis_range=[0, 1])
    st.plotly_chart(fig, width="stretch")

if data["history"] is not None:
    st.subheader("Training curves")
    h = data["history"].copy()
    h["epoch"] = h["epoch"] + 1
    if "member" not in h:
        h["member"] = 1
    if h["member"].nunique() > 1:
        st.caption(f"This model averages {h['member'].nunique()} networks trained from different random "
                   "starts; each line is one of them.")
    a, b = st.columns(2)
    for col, metric, title in ((a, "loss", "Loss"), (b, "accuracy", "Accuracy")):
        long = h.melt(id_vars=["epoch", "member"], value_vars=[metric, f"val_{metric}"], var_name="set",
                      value_name="value")
        long["set"] = long["set"].map({metric: "training", f"val_{metric}": "validation"})
        fig = px.line(long, x="epoch", y="value", color="set", line_group="member", hover_data=["member"],
                      title=title, labels={"value": metric})
        fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="")
        col.plotly_chart(fig, width="stretch")

preds = data["predictions"]
if preds is not None and len(preds):
    wrong = preds[preds["true"] != preds["predicted"]].reset_index(drop=True)
    st.subheader(f"Misclassified test clips ({len(wrong)} of {len(preds)})")
    root = Path(run.get("labels", "")).parent
    if len(wrong):
        st.dataframe(wrong[["path", "true", "predicted"]], hide_index=True, width="stretch", height=220)
        i = st.number_input("Listen to misclassified clip number", 1, len(wrong), 1, key="ev_wrong_i") - 1
        row = wrong.iloc[i]
        x, y = st.columns([1, 2])
        clip = root / row["path"]
        with x:
            st.markdown(f"**{row['path']}**  \ntrue **{row['true']}**, predicted **{row['predicted']}**")
            if clip.is_file():
                st.audio(str(clip))
            else:
                st.caption(f"(audio not found at {short(clip)})")
        probs = {e: float(row[e]) for e in report["confusion"]["labels"] if e in row}
        from pages._shared import probability_figure

        y.plotly_chart(probability_figure(probs, height=240), width="stretch")

st.subheader("Compare two runs")
others = [m.name for m in list_models(models_dir()) if m != model_dir]
if others:
    other = st.selectbox("Compare with", others, key="p_ev_other")
    od = read_run(models_dir() / other)
    if od["report"]:
        a, b = st.columns(2)
        headline(a, model_dir.name, data)
        headline(b, other, od)
        both = pd.DataFrame({model_dir.name: class_table(report)["f1"],
                             other: class_table(od["report"])["f1"]}).reset_index(names="emotion")
        fig = px.bar(both.melt(id_vars="emotion", var_name="run", value_name="F1"), x="emotion", y="F1",
                     color="run", barmode="group", title="F1 by emotion")
        fig.update_layout(height=300, yaxis_tickformat=".0%")
        st.plotly_chart(fig, width="stretch")
else:
    st.caption("Train another run to compare it with this one.")

st.subheader("Downloads")
d1, d2, d3 = st.columns(3)
d1.download_button("Report (JSON)", json.dumps(report, indent=2), file_name=f"{model_dir.name}-report.json",
                   mime="application/json")
d2.download_button("Per-emotion scores (CSV)", class_table(report).to_csv(), file_name=f"{model_dir.name}-scores.csv",
                   mime="text/csv")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for f in ("model.keras", "model.h5", "config.json", "report.json"):
        if (model_dir / f).is_file():
            z.write(model_dir / f, f)
d3.download_button("Model (zip: model.keras, model.h5, config.json)", buf.getvalue(),
                   file_name=f"{model_dir.name}-model.zip", mime="application/zip")

with st.expander("Evaluate this model on another labelled folder"):
    csv = dataset_picker("Labelled folder")
    if st.button("Evaluate", key="ev_other_go") and csv:
        from ser.evaluate import evaluate_model

        out = model_dir / "evaluations" / Path(csv).parent.name
        try:
            with st.spinner("Extracting features and predicting…"):
                r = evaluate_model(model_dir, csv, out)
            st.success(f"Accuracy {r['accuracy']:.1%}, macro F1 {r['macro_f1']:.1%} on {r['n_clips']} clips "
                       f"({r['n_skipped']} skipped) of {short(csv)}.")
            st.plotly_chart(confusion_figure(r, normalise=True), width="stretch")
        except SerError as exc:
            st.error(str(exc))
