"""Train / validation / test split, stratified by emotion: by speaker, or by clip when chosen.

What the data must allow (checked here, before anything is trained; ``python -m ser validate``
and the Train page say it beforehand, see :func:`ser.datasets.labels.training_problem` and
:func:`ser.datasets.labels.speaker_split_problem`):

- any split: clips of at least two emotions, and at least 3 of each (one each for training,
  validation and test);
- a speaker split (the default): every clip names its speaker, and every emotion is spoken by
  at least 3 speakers, so that the test voices are never heard in training.

A clip split is never chosen silently: only ``split_mode="clip"`` (``--split-mode clip``, or
"clip" on the Train page) gives one, and its reports say that speakers overlap. The old
``"auto"`` is read as ``"speaker"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ser.errors import LabelsError

__all__ = ["split_labels", "resolve_split_mode", "SPLITS"]

SPLITS: tuple[str, ...] = ("train", "val", "test")


def _source(labels: pd.DataFrame) -> str:
    return labels.attrs.get("csv", "labels")


def resolve_split_mode(labels: pd.DataFrame, mode: str = "speaker") -> str:
    """``"speaker"`` or ``"clip"``; raises :class:`LabelsError` (naming the file) if ``labels`` cannot
    be split that way. ``"auto"`` (older configs) means ``"speaker"``: never a silent clip split."""
    from ser.datasets.labels import speaker_split_problem, training_problem

    problem = training_problem(labels)
    if problem:
        raise LabelsError(f"{_source(labels)}: {problem}; add clips (check with `python -m ser validate`).")
    if mode == "clip":
        return "clip"
    if mode not in ("speaker", "auto"):
        raise LabelsError(f"split_mode={mode!r} is unknown; choose speaker or clip.")
    problem = speaker_split_problem(labels)
    if problem:
        raise LabelsError(f"{_source(labels)}: cannot split by speaker: {problem}; name more speakers, or train "
                          "with a clip split knowingly (--split-mode clip; the scores are then on voices heard in "
                          "training: speakers overlap).")
    return "speaker"


def _holdout(y: np.ndarray, groups: np.ndarray | None, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a held-out part of about ``fraction``, stratified by ``y``, whole groups if given.

    Without groups the part holds at least one clip of each emotion (so at least as many clips as
    emotions), and leaves at least one of each behind.
    """
    from sklearn.model_selection import StratifiedGroupKFold, train_test_split

    idx = np.arange(len(y))
    if groups is None:
        n_classes = len(np.unique(y))
        size = max(n_classes, int(round(fraction * len(y))))
        _, held = train_test_split(idx, test_size=size, stratify=y, random_state=seed)
    else:
        n_groups = len(np.unique(groups))
        n_splits = int(min(max(2, round(1 / fraction)), n_groups))
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        _, held = next(folds.split(idx, y, groups))
    mask = np.zeros(len(y), dtype=bool)
    mask[held] = True
    return mask


def split_labels(labels: pd.DataFrame, *, mode: str = "speaker", test_fraction: float = 0.2,
                 val_fraction: float = 0.1, seed: int = 0) -> pd.DataFrame:
    """Assign each clip to ``train``, ``val`` or ``test``.

    ``test_fraction`` of the clips go to test, then ``val_fraction`` of the rest to
    validation, stratified by emotion. In ``speaker`` mode whole speakers are held out, so
    that no voice is on two sides; ``clip`` mode (only when asked for) lets speakers overlap.

    Parameters
    ----------
    labels : DataFrame with ``path, emotion, speaker`` (from :func:`ser.datasets.labels.read_labels`)

    Returns
    -------
    DataFrame with ``path, speaker, emotion, split`` (plus ``abspath`` if present); its
    ``attrs["split_mode"]`` is ``"speaker"`` or ``"clip"``.

    Raises
    ------
    LabelsError
        If the clips do not allow the split (see the module's rules), naming the labels file.
    """
    n = len(labels)
    if n < 10:
        raise LabelsError(f"{_source(labels)}: only {n} usable clips; a train/validation/test split needs at "
                          "least 10.")
    mode = resolve_split_mode(labels, mode)
    y = labels["emotion"].to_numpy()
    groups = labels["speaker"].astype(str).to_numpy() if mode == "speaker" else None
    try:
        test = _holdout(y, groups, test_fraction, seed)
        rest = np.flatnonzero(~test)
        val_rest = _holdout(y[rest], None if groups is None else groups[rest], val_fraction, seed + 1)
    except ValueError as exc:  # scikit-learn's own limits, in words of counts only
        raise LabelsError(f"{_source(labels)}: {n} clips of {len(np.unique(y))} emotions cannot be split into "
                          f"training, validation and test stratified by emotion ({type(exc).__name__}); add clips "
                          "of the rarest emotions.") from exc
    split = np.full(n, "train", dtype=object)
    split[test] = "test"
    split[rest[val_rest]] = "val"
    cols = [c for c in ("path", "speaker", "emotion", "abspath") if c in labels.columns]
    out = labels[cols].copy()
    out["split"] = split
    out.attrs.update(labels.attrs, split_mode=mode)
    return out
