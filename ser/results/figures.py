"""Charts of a model's results, shared by the Evaluate page and the HTML report (:mod:`ser.results.report`).

Plotly figures from the files a training writes (``report.json``, ``robustness.json``,
``history.csv``) and from a running training's progress; no Streamlit here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ser import EMOTIONS

__all__ = ["EMOTION_COLORS", "confusion_figure", "robustness_figure", "training_history", "curves_figure",
           "progress_curves_figure", "f1_figure", "f1_comparison_figure"]

EMOTION_COLORS = dict(zip(EMOTIONS, px.colors.qualitative.Set2))


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


def robustness_figure(rows: list[dict]) -> go.Figure:
    labels = [r["label"] for r in rows]
    clean = rows[0]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labels, y=[r["accuracy"] for r in rows], name="accuracy",
                         marker_color=["#5b5bd6" if r["name"] == "clean" else "#9b9be8" for r in rows],
                         text=[f"{r['accuracy']:.0%}" for r in rows], textposition="outside",
                         customdata=[r["agreement"] for r in rows],
                         hovertemplate="%{x}<br>accuracy %{y:.1%}<br>same answer as clean: "
                                       "%{customdata:.0%}<extra></extra>"))
    fig.add_trace(go.Bar(x=labels, y=[r["macro_f1"] for r in rows], name="macro F1", marker_color="#e4572e",
                         opacity=0.75))
    fig.add_hline(y=clean["accuracy"], line_dash="dash", line_color="#5b5bd6",
                  annotation_text="clean accuracy", annotation_position="top right")
    fig.update_layout(barmode="group", height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis={"range": [0, 1.05], "tickformat": ".0%"}, legend={"orientation": "h", "y": 1.12})
    return fig


def training_history(history: pd.DataFrame) -> pd.DataFrame:
    """``history.csv`` as it is shown: epochs counted from 1, and a ``member`` column (the network of
    an ensemble; 1 for a single network). ``history`` itself is left unchanged.

    Parameters
    ----------
    history : DataFrame of ``history.csv`` (``epoch`` from 0, metrics, optionally ``member``)
    """
    h = history.copy()
    h["epoch"] = h["epoch"] + 1
    if "member" not in h:
        h["member"] = 1
    return h


def curves_figure(history: pd.DataFrame, *, metric: str = "loss") -> go.Figure:
    """Training and validation ``metric`` per epoch, one line per network of an ensemble.

    Parameters
    ----------
    history : DataFrame of ``history.csv`` (``epoch``, ``metric``, ``val_<metric>``, optionally ``member``)
    """
    h = training_history(history)
    long = h.melt(id_vars=["epoch", "member"], value_vars=[metric, f"val_{metric}"], var_name="set",
                  value_name="value")
    long["set"] = long["set"].map({metric: "training", f"val_{metric}": "validation"})
    fig = px.line(long, x="epoch", y="value", color="set", line_group="member", hover_data=["member"],
                  title=metric.capitalize(), labels={"value": metric})
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend_title_text="")
    return fig


def progress_curves_figure(epochs: list[dict]) -> go.Figure:
    """Loss and accuracy, training and validation, of a training as it runs.

    Parameters
    ----------
    epochs : the ``epoch`` events of the network now training (:func:`ser.training.progress.summarise`),
        each with ``epoch``, ``loss``, ``accuracy`` and their ``val_`` twins
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)", "Accuracy (higher is better)"))
    x = [e["epoch"] for e in epochs]
    for col, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, name, dash in (("", "training", "solid"), ("val_", "validation", "dash")):
            fig.add_trace(go.Scatter(x=x, y=[e.get(prefix + metric) for e in epochs], name=name,
                                     line={"dash": dash, "color": "#5b5bd6" if not prefix else "#e4572e"},
                                     showlegend=col == 1), row=1, col=col)
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_xaxes(title_text="epoch")
    return fig


def f1_figure(per_class: dict) -> go.Figure:
    """F1 of each emotion (``report.json``'s ``per_class``)."""
    emotions = list(per_class)
    fig = go.Figure(go.Bar(x=emotions, y=[per_class[e]["f1"] for e in emotions],
                           marker_color=[EMOTION_COLORS.get(e, "#888") for e in emotions],
                           text=[f"{per_class[e]['f1']:.0%}" for e in emotions], textposition="outside"))
    fig.update_layout(title="F1 by emotion", showlegend=False, height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      yaxis={"tickformat": ".0%", "range": [0, 1.1]})
    return fig


def f1_comparison_figure(per_class_by_run: dict[str, dict]) -> go.Figure:
    """F1 of each emotion, side by side for several runs.

    Parameters
    ----------
    per_class_by_run : run name -> its ``report.json``'s ``per_class``
    """
    fig = go.Figure([go.Bar(x=list(per_class), y=[v["f1"] for v in per_class.values()], name=name)
                     for name, per_class in per_class_by_run.items()])
    fig.update_layout(title="F1 by emotion", barmode="group", height=300, yaxis_tickformat=".0%",
                      xaxis_title="emotion", yaxis_title="F1", legend_title_text="run")
    return fig
