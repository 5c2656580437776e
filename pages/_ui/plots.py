"""Figures the pages draw: waveform, heat maps (mel, MFCC), probabilities."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ser.results.figures import EMOTION_COLORS  # one palette for pages and reports

EMOJI = {"neutral": "😐", "calm": "😌", "happy": "😄", "sad": "😢", "angry": "😠", "fearful": "😨",
         "disgust": "🤢", "surprised": "😲"}
"""One face per emotion, wherever a page names an answer."""
NO_SPEECH_COLOR = "#c8cbd4"  # windows without speech: grey, not an emotion
CROWD_COLOR = "#8d93a5"  # several voices at once: a darker grey


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
    is what the features are made of (:func:`ser.features.extract.mel_db`)."""
    from ser.config import FeatureConfig
    from ser.features.extract import mel_db

    return heatmap_figure(mel_db(y, sr=sr), sr=sr, hop_length=FeatureConfig().hop_length, title=title,
                          y_label="mel band", colorbar="dB", height=height)


def probability_figure(probabilities: dict[str, float], *, height: int = 280) -> go.Figure:
    emos = list(probabilities)
    fig = go.Figure(go.Bar(x=emos, y=[probabilities[e] for e in emos],
                           marker_color=[EMOTION_COLORS.get(e, "#888") for e in emos],
                           text=[f"{probabilities[e]:.0%}" for e in emos], textposition="outside"))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis={"range": [0, 1.1],
                      "tickformat": ".0%", "title": "probability"}, showlegend=False)
    return fig


def explanation_figure(y: np.ndarray, sr: int, explanation, *, height: int = 260) -> go.Figure:
    """The waveform with, over it, how much each stretch supports the prediction (:mod:`ser.serving.explain`):
    tall coloured bars are the seconds the answer rests on, bars below zero argued against it."""
    e = explanation
    y = y.mean(axis=1) if y.ndim == 2 else y
    step = max(1, len(y) // 4000)
    t = np.arange(0, len(y), step) / sr
    peak = float(np.abs(y).max()) or 1.0
    scale = max(float(np.abs(e.importance).max()), 1e-6)
    color = EMOTION_COLORS.get(e.emotion, "#5b5bd6")
    fig = go.Figure()
    fig.add_trace(go.Bar(x=(e.starts_s + e.ends_s) / 2, y=e.importance, width=e.ends_s - e.starts_s,
                         marker_color=[color if v > 0 else "#c8cbd4" for v in e.importance], opacity=0.75,
                         name="support", hovertemplate="%{x:.2f} s: %{y:+.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=t, y=y[::step] / peak * scale, mode="lines", line={"width": 1, "color": "#1f2330"},
                             name="waveform", hoverinfo="skip"))
    fig.update_layout(title=f"Which seconds made it “{e.emotion}”", height=height, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title="seconds",
                      yaxis={"title": "drop in probability without it", "tickformat": ".0%"}, bargap=0)
    return fig
