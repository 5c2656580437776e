"""A labelled folder as the Dataset page shows it: how many clips, speakers and minutes, clips per
emotion and per speaker, and the clips a person filters for.

``labels`` is the frame of :func:`ser.datasets.labels.read_labels` (``path``, ``emotion``, ``speaker``,
``duration_s``); a speaker is named when its cell is not empty.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ser import EMOTIONS

__all__ = ["overview", "clips_per_emotion", "clips_per_speaker", "speakers", "filter_clips", "UNKNOWN"]

UNKNOWN = "unknown"  # how a clip without a known emotion is counted


def overview(labels: pd.DataFrame) -> dict[str, int | float]:
    """``clips``, named ``speakers`` and total ``minutes`` of ``labels``."""
    return {"clips": len(labels), "speakers": int(labels["speaker"].replace("", pd.NA).nunique()),
            "minutes": float(labels["duration_s"].sum()) / 60}


def clips_per_emotion(labels: pd.DataFrame) -> pd.Series:
    """Clips of each emotion present, in :data:`ser.EMOTIONS` order, then :data:`UNKNOWN`."""
    return labels["emotion"].fillna(UNKNOWN).value_counts().reindex([*EMOTIONS, UNKNOWN]).dropna().astype(int)


def clips_per_speaker(labels: pd.DataFrame) -> pd.DataFrame | None:
    """``speaker``, ``emotion``, ``clips`` for each pair; ``None`` when no clip names its speaker."""
    if not labels["speaker"].str.len().gt(0).any():
        return None
    return labels.groupby(["speaker", labels["emotion"].fillna(UNKNOWN)]).size().reset_index(name="clips")


def speakers(labels: pd.DataFrame) -> list[str]:
    """The named speakers, sorted."""
    return sorted(s for s in labels["speaker"].unique() if s)


def filter_clips(clips: pd.DataFrame, *, emotions: Sequence[str] = (), speakers: Sequence[str] = (),
                 text: str = "") -> pd.DataFrame:
    """The clips of any of ``emotions`` and any of ``speakers`` (each: all when empty) whose path
    contains ``text`` (any case, a plain string), numbered from 0."""
    view = clips
    if emotions:
        view = view[view["emotion"].isin(emotions)]
    if speakers:
        view = view[view["speaker"].isin(speakers)]
    if text:
        view = view[view["path"].str.contains(text, case=False, regex=False)]
    return view.reset_index(drop=True)
