"""Train / validation / test split: by speaker when speakers are known, stratified by emotion."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ser.errors import LabelsError

__all__ = ["split_labels", "resolve_split_mode", "SPLITS"]

SPLITS: tuple[str, ...] = ("train", "val", "test")


def resolve_split_mode(labels: pd.DataFrame, mode: str = "auto") -> str:
    """``"speaker"`` or ``"clip"``: ``auto`` splits by speaker when every row has one and there are >= 3."""
    has_speakers = bool((labels["speaker"].astype(str).str.len() > 0).all()) and labels["speaker"].nunique() >= 3
    if mode == "auto":
        return "speaker" if has_speakers else "clip"
    if mode == "speaker" and not has_speakers:
        raise LabelsError("split_mode='speaker' needs a speaker for every clip and at least 3 speakers; "
                          "add a speaker column or use split_mode='clip'.")
    return mode


def _holdout(y: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a held-out part of about ``fraction``, stratified by ``y``, whole groups if given."""
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    idx = np.arange(len(y))
    if groups is None:
        _, held = train_test_split(idx, test_size=fraction, stratify=y, random_state=seed)
    else:
        n_groups = len(np.unique(groups))
        n_splits = int(min(max(2, round(1 / fraction)), n_groups))
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        _, held = next(folds.split(idx, y, groups))
    mask = np.zeros(len(y), dtype=bool)
    mask[held] = True
    return mask


def split_labels(labels: pd.DataFrame, *, mode: str = "auto", test_fraction: float = 0.2,
                 val_fraction: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Assign each clip to ``train``, ``val`` or ``test``.

    ``test_fraction`` of the clips go to test, then ``val_fraction`` of the rest to
    validation, stratified by emotion. In ``speaker`` mode whole speakers are held out, so
    that no voice is on two sides.

    Parameters
    ----------
    labels : DataFrame with ``path, emotion, speaker`` (from :func:`ser.labels.read_labels`)

    Returns
    -------
    DataFrame with ``path, speaker, emotion, split`` (plus ``abspath`` if present)
    """
    mode = resolve_split_mode(labels, mode)
    n = len(labels)
    if n < 10:
        raise LabelsError(f"only {n} usable clips; a train/validation/test split needs at least 10.")
    y = labels["emotion"].to_numpy()
    groups = labels["speaker"].astype(str).to_numpy() if mode == "speaker" else None
    test = _holdout(y, groups, test_fraction, seed)
    rest = np.flatnonzero(~test)
    val_rest = _holdout(y[rest], None if groups is None else groups[rest], val_fraction, seed + 1)
    split = np.full(n, "train", dtype=object)
    split[test] = "test"
    split[rest[val_rest]] = "val"
    cols = [c for c in ("path", "speaker", "emotion", "abspath") if c in labels.columns]
    out = labels[cols].copy()
    out["split"] = split
    out.attrs.update(labels.attrs, split_mode=mode)
    return out
