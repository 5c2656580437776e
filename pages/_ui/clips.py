"""A dataset's clip "as recorded", for the pages that play it or simulate conditions on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

__all__ = ["recorded_clip"]


@st.cache_data(show_spinner=False, max_entries=8)
def _recorded(path: str, name: str, stamp: tuple[int, int]) -> tuple[np.ndarray, int]:
    from ser.audio.reader import read_audio
    from ser.config import AudioConfig

    decoded = read_audio(path, config=AudioConfig(), name=name)
    return decoded.y, decoded.sr


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
    from ser.errors import AudioError

    try:
        info = Path(path).stat()
    except OSError:
        raise AudioError(f"{name or path}: file not found.") from None
    return _recorded(str(path), name or str(path), (info.st_mtime_ns, info.st_size))
