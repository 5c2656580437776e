"""“Your voice first”: an enrolment on the Predict page for a model trained with per-speaker normalisation.

Such a model (``--set speaker_norm=true``) hears every window minus its speaker's mean of each feature
row. Without an enrolment it takes the recording's own frames for that mean; with one (at least 3 s of
the user's speech, uploaded or recorded, its labels never asked), every answer on the page (uploads,
recordings) uses that speaker's mean. The work is :meth:`ser.serving.predict.Predictor.enrol`; this module
reads the clips, keeps the statistics for the model in the session and says what they came from. A model
trained without it shows nothing: an enrolment would change none of its answers.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pages._ui.clips import uploaded_clip
from pages._ui.text import md
from ser import SerError

__all__ = ["enrolment_panel"]


def _key(model_dir: Path) -> str:
    return f"enrolment::{Path(model_dir).resolve()}"


def enrolment_panel(predictor, model_dir: Path):
    """Draw the enrolment for ``predictor`` (loaded from ``model_dir``); return the enrolled
    :class:`ser.features.speakers.SpeakerStats`, or ``None`` (no enrolment, or a model that would ignore it)."""
    if not predictor.config.train.speaker_norm:
        return None
    from ser.features.speakers import MIN_ENROL_S

    key = _key(model_dir)
    stats = st.session_state.get(key)
    title = (f"🧑 Your voice: {stats}" if stats is not None else
             "🧑 Your voice first: this model normalises each speaker (enrol a few seconds of speech)")
    with st.expander(title, expanded=stats is None):
        st.caption("This model compares each recording with its speaker's usual voice. Give it at least "
                   f"{MIN_ENROL_S:.0f} s of your speech (any words, any emotion; several clips add up) and "
                   "every answer on this page uses your voice's average. Without it each recording is "
                   "compared with itself, which is less accurate.")
        files = st.file_uploader("Clips of your voice (WAV, FLAC, OGG, MP3)", type=["wav", "flac", "ogg", "mp3"],
                                 accept_multiple_files=True, key="enrol_files")
        rate = predictor.config.audio.sample_rate_hz
        spoken = st.audio_input("…or record yourself for a few seconds", key="enrol_mic", sample_rate=rate)
        given = [(f.name, f.getvalue()) for f in files or []] + ([("recording.wav", spoken.getvalue())]
                                                                 if spoken else [])
        left, right = st.columns(2)
        if left.button("Enrol my voice", key="enrol_go", disabled=not given, type="primary"):
            try:
                clips = [uploaded_clip(name, data, config=predictor.config.audio) for name, data in given]
                st.session_state[key] = predictor.enrol([(c.y, c.sr) for c in clips])
                st.rerun()
            except SerError as exc:
                st.error(md(exc))
        if stats is not None:
            st.success(f"Answers use your voice: {md(stats)}.")
            if right.button("Forget my voice", key="enrol_forget"):
                del st.session_state[key]
                st.rerun()
    return stats  # every change of it above reruns the page
