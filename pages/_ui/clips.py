"""Clips the pages play, show or simulate conditions on, each read once by :func:`ser.audio.reader.read_audio`.

A dataset's clip "as recorded" (:func:`recorded_clip`), other speakers' clips to make babble of
(:func:`finished_clips`, as training makes it), and an upload (:func:`uploaded_clip`): the reader gives
the model's rate from the config, so no page types a sample rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from ser.audio.reader import Decoded, finish_audio, read_audio
from ser.config import AudioConfig

__all__ = ["recorded_clip", "finished_clips", "uploaded_clip"]


@st.cache_data(show_spinner=False, max_entries=8)
def _recorded(path: str, name: str, stamp: tuple[int, int]) -> tuple[np.ndarray, int]:
    decoded = read_audio(path, config=AudioConfig(), name=name)
    return decoded.y, decoded.sr


def _stamp(path: str | Path, name: str) -> tuple[int, int]:
    from ser.errors import AudioError

    try:
        info = Path(path).stat()
    except OSError:
        raise AudioError(f"{name}: file not found.") from None
    return info.st_mtime_ns, info.st_size


def recorded_clip(path: str | Path, *, name: str | None = None) -> tuple[np.ndarray, int]:
    """The clip as a microphone gave it: mono at the model's rate, not trimmed, not levelled.

    Read by :func:`ser.audio.reader.read_audio` (a file longer than the limit is refused from its header,
    before any sample is decoded), cached per file version.

    Parameters
    ----------
    path : the clip's file
    name : what to call it in messages (e.g. its path inside the dataset); defaults to ``path``

    Returns
    -------
    y : np.ndarray, shape (n,), float32
    sr : int, the model's rate

    Raises
    ------
    SerError
        One line naming the clip: missing, unreadable, too long, empty, silent.
    """
    return _recorded(str(path), name or str(path), _stamp(path, name or str(path)))


@st.cache_data(show_spinner=False, max_entries=4)
def _finished(paths: tuple[str, ...], stamps: tuple[tuple[int, int], ...]) -> list[np.ndarray]:
    config = AudioConfig()
    return [finish_audio(read_audio(p, config=config), config=config) for p in paths]


def finished_clips(paths: tuple[str, ...] | list[str]) -> list[np.ndarray]:
    """Clips read and finished (trimmed, levelled) as training's babble sources are, cached per file versions.

    Returns
    -------
    list of np.ndarray, shape (n,), float32 at the model's rate

    Raises
    ------
    SerError
        One line naming the first clip that cannot be read.
    """
    paths = tuple(str(p) for p in paths)
    return _finished(paths, tuple(_stamp(p, p) for p in paths))


@st.cache_data(show_spinner=False, max_entries=16)
def _uploaded(name: str, data: bytes, audio_key: str, _config: AudioConfig) -> Decoded:
    return read_audio(data, config=_config, name=name)


def uploaded_clip(name: str, data: bytes, *, config: AudioConfig) -> Decoded:
    """An upload or recording as read for a model with ``config``, decoded once per content.

    What the Predict page predicts (:meth:`ser.serving.predict.Predictor.predict_file` takes it as it
    is), explains and draws: one decode, on the first run that sees the upload.

    Raises
    ------
    SerError
        One line naming the upload: unreadable, too long, empty, silent.
    """
    return _uploaded(name, data, repr(config), config)
