"""Per-speaker normalisation: each feature row minus its mean over one speaker's frames.

A voice shifts every feature row by its own amount (a lower pitch, a longer vocal tract, a brighter
microphone); subtracting the speaker's mean over all frames of all their clips leaves how each clip
departs from that speaker's usual, which is what an emotion changes. With
``TrainConfig.speaker_norm`` a model is trained that way (:func:`ser.training.dataset.features_for_split`),
evaluated that way over a labelled folder (``ser evaluate --speaker-norm``: each speaker by their
own clips, whose labels are never read for it) and, in prediction, fed a user's enrolment
(:meth:`ser.serving.predict.Predictor.enrol`). Normalising by a test speaker's own unlabelled clips is a
known protocol in the field; it is not training on them.

The rules:

- the statistics come from a speaker's *original* clips only, never from augmented versions (which
  are normalised with their speaker's statistics like the originals);
- a clip without a speaker is normalised by its own frames (as a prediction without enrolment is);
- frames of digital silence (RMS exactly 0: a short clip padded with zeros, ``pad_mode="silence"``)
  are left out of the statistics when ``rms_row`` is given, though shifted like the others.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from ser.errors import ConfigError

__all__ = ["speaker_stats", "normalise", "normalise_groups", "rms_row", "SpeakerStats", "MIN_ENROL_S"]

MIN_ENROL_S = 3.0
"""Seconds of speech (the speech detector's frames) an enrolment needs in total."""


@dataclass(frozen=True)
class SpeakerStats:
    """What an enrolment gives: the speaker's mean of each feature row, and what it came from.

    Attributes
    ----------
    mean : np.ndarray, shape (n_features,)
    seconds : float
        Seconds of speech the mean comes from.
    n_clips : int
    applies : bool
        Whether the model uses it (trained with ``speaker_norm``); ``note`` says why not.
    note : str
    """

    mean: np.ndarray
    seconds: float
    n_clips: int
    applies: bool = True
    note: str = ""

    def __str__(self) -> str:
        said = f"enrolled {self.seconds:.1f} s of speech from {self.n_clips} clip{'s' * (self.n_clips != 1)}"
        return f"{said}; {self.note}" if self.note else said


def rms_row(features) -> int:
    """Index of the RMS row in a :class:`ser.config.FeatureConfig`'s feature matrix."""
    return features.n_mels + features.n_mfcc + features.n_chroma + 1


def _frames(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        return X
    if X.ndim == 3:  # (clips, n_features, frames) side by side
        return np.concatenate(list(X), axis=1) if len(X) else np.zeros((X.shape[1], 0))
    raise ConfigError(f"features of shape {X.shape}: need (n_features, frames) or (clips, n_features, frames).")


def speaker_stats(X_list: Sequence[np.ndarray], *, rms_row: int | None = None) -> np.ndarray:
    """Mean of each feature row over every frame of every clip in ``X_list``.

    Parameters
    ----------
    X_list : sequence of np.ndarray, each (n_features, frames) or (clips, n_features, frames)
        One speaker's clips (original versions only).
    rms_row : int, optional
        With it, frames whose RMS is exactly 0 (zero padding) are left out.

    Returns
    -------
    np.ndarray, shape (n_features,), float32
    """
    frames = [_frames(X) for X in X_list]
    if not frames:
        raise ConfigError("speaker statistics need at least one clip.")
    allf = np.concatenate(frames, axis=1)
    if rms_row is not None:
        voiced = allf[rms_row] != 0
        if voiced.any():  # a clip of digital silence only keeps its frames rather than giving no mean
            allf = allf[:, voiced]
    return allf.mean(axis=1).astype(np.float32)


def normalise(X: np.ndarray, *, mean: np.ndarray) -> np.ndarray:
    """``X`` with ``mean`` subtracted from each feature row.

    Parameters
    ----------
    X : np.ndarray, shape (n_features, frames) or (n, n_features, frames)
    mean : np.ndarray, shape (n_features,), from :func:`speaker_stats`

    Returns
    -------
    np.ndarray of ``X``'s shape, float32
    """
    X = np.asarray(X)
    mean = np.asarray(mean, dtype=np.float32).reshape(-1)
    if X.ndim not in (2, 3) or mean.shape[0] != X.shape[-2]:
        raise ConfigError(f"speaker statistics of shape {mean.shape} do not fit features of shape {X.shape}; "
                          "enrol again with this model.")
    return (X - mean[:, None]).astype(np.float32)


def normalise_groups(X_list: Sequence[np.ndarray], groups: Sequence[Hashable], *, original: Sequence[bool],
                     rms_row: int | None = None) -> list[np.ndarray]:
    """Each clip normalised with the statistics of its group's original clips.

    Parameters
    ----------
    X_list : the clips' feature matrices, each (n_features, frames)
    groups : one key per clip: its speaker (within its split), or the clip itself when it has none
    original : whether each entry is an original (only those make the statistics)

    Returns
    -------
    list of np.ndarray, in ``X_list``'s order
    """
    members: dict[Hashable, list[np.ndarray]] = {}
    for X, g, o in zip(X_list, groups, original):
        if o:
            members.setdefault(g, []).append(X)
    means = {g: speaker_stats(xs, rms_row=rms_row) for g, xs in members.items()}
    out = []
    for X, g in zip(X_list, groups):
        if g not in means:  # no original in its group (features_for_split never gives that): its own frames
            means[g] = speaker_stats([X], rms_row=rms_row)
        out.append(normalise(X, mean=means[g]))
    return out
