"""The emotions to answer among (closed-set answers): one multiselect shared by the Predict and Evaluate pages."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from pages._ui.text import md
from ser import SerError
from ser.datasets.emotions import check_choice

BAD = object()
"""What :func:`answer_among` returns for a choice that cannot answer (fewer than two emotions)."""


def answer_among(emotions: Sequence[str], *, key: str, help: str | None = None) -> tuple[str, ...] | None | object:
    """A multiselect "Answer among" over the model's ``emotions`` (default: all), kept across reruns and page
    switches by its ``p_`` key.

    Returns
    -------
    ``None`` when every emotion is chosen (the model's own answer), the chosen emotions in the model's order
    (:func:`ser.datasets.emotions.check_choice`), or :data:`BAD` after showing one line when fewer than two are chosen
    """
    known = list(emotions)
    kept = st.session_state.get(key)
    if kept is None or any(e not in known for e in kept):  # first visit, or another model's emotions
        st.session_state[key] = [e for e in (kept or known) if e in known] or known
    chosen = st.multiselect("Answer among", known, key=key,
                            help=help or "The answer is the most likely of these emotions, its probabilities "
                                         "renormalised over them (e.g. a call centre: angry, happy, neutral, sad).")
    try:
        chosen = check_choice(chosen, known=known)
    except SerError as exc:
        st.error(md(str(exc).removeprefix("--emotions: ")))
        return BAD
    return None if len(chosen) == len(known) else chosen
