"""Predict: the emotion in uploaded or recorded speech."""

import pandas as pd
import plotly.express as px
import streamlit as st

from pages._ui.choice import BAD, answer_among
from pages._ui.clips import uploaded_clip
from pages._ui.correct import correction_form
from pages._ui.enrol import enrolment_panel
from pages._ui.models import model_picker, predictor_or_error, runtime_caption
from pages._ui.plots import CROWD_COLOR, EMOJI, EMOTION_COLORS, NO_SPEECH_COLOR, explanation_figure, probability_figure
from pages._ui.state import setup
from pages._ui.text import md
from ser import SerError
from ser.audio.speech import MANY_VOICES

setup()
st.title("🔮 Predict emotion")
st.caption("Upload speech or record your voice; the model says which of 8 emotions it hears, and how sure it is.")

model_dir = model_picker("Model")
if model_dir is None:
    st.stop()
predictor = predictor_or_error(model_dir)
if predictor is None:
    st.stop()
st.caption(runtime_caption(predictor))
chosen = answer_among(predictor.emotions, key="p_answer_among")  # None: every emotion; BAD: one line shown
speaker = enrolment_panel(predictor, model_dir)  # a speaker_norm model's enrolment, else None


def timeline_figure(rows: list[dict]):
    """Emotion over time; windows without speech are a grey "no speech" band and crowds a darker grey
    "several voices" band, not an emotion."""
    df = pd.DataFrame(rows)
    df["time_s"] = (df["start_s"] + df["end_s"]) / 2
    crowd = df.get("several_voices", pd.Series(False, index=df.index)).astype(bool)
    df["several voices"] = crowd.astype(float)
    df["no speech"] = ((df["speech"] == 0) & ~crowd).astype(float)
    shown = [e for e in predictor.emotions if e in df.columns]  # an answer among some emotions has only those
    long = df.melt(id_vars="time_s", value_vars=[*shown, "no speech", "several voices"],
                   var_name="emotion", value_name="probability")
    fig = px.area(long, x="time_s", y="probability", color="emotion",
                  color_discrete_map={**EMOTION_COLORS, "no speech": NO_SPEECH_COLOR, "several voices": CROWD_COLOR},
                  title="Emotion over time")
    fig.update_layout(height=300, yaxis_tickformat=".0%", xaxis_title="seconds (middle of each window)",
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


EXPLAIN_DEADLINE_S = 20.0  # no explanation holds the server longer; one cut short says so


@st.cache_data(max_entries=16, show_spinner="Finding which seconds drove it…")
def explanation(model_key: tuple, name: str, data: bytes, _predictor, _clip):
    """Occlusion over time (:func:`ser.serving.explain.explain`: bounded work, at most ``EXPLAIN_DEADLINE_S``)
    of the upload ``data`` as read (``_clip``), computed once per model and recording."""
    from ser.serving.explain import explain

    return explain(_predictor, _clip.y, sr=_clip.sr, name=name, deadline_s=EXPLAIN_DEADLINE_S)


def why(name: str, data: bytes, clip, answer: str) -> None:
    """Which seconds of the recording (``clip``, as read) the prediction (``answer``) rests on, drawn over its
    waveform."""
    y, sr = clip.y, clip.sr
    try:
        e = explanation((str(model_dir), predictor.runtime), name, data, predictor, clip)
    except SerError as exc:
        st.caption(f"No explanation: {md(exc)}")
        return
    if e.emotion is None:
        return
    if e.emotion != answer:  # explanations are of the answer among all emotions
        st.caption(f"No explanation: among all its emotions the model would answer “{e.emotion}”; explanations "
                   "are of that answer, not of one among the emotions chosen.")
        return
    st.plotly_chart(explanation_figure(y, sr, e), width="stretch", key=f"why-{name}")
    stretch = "quarter second" if e.segment_s == 0.25 else f"{e.segment_s:.2f} s stretch"
    st.caption(f"**Why?** {e.sentence()} Each bar is how much less sure the model becomes when that {stretch} "
               "is silenced.")


def analyse(name: str, data: bytes, *, explain: bool = False, where: str = "upload") -> dict | None:
    """Show one clip's prediction (with ``explain``, which seconds drove it); return a row for the summary
    table."""
    st.markdown(f"#### {md(name)}")
    try:
        clip = uploaded_clip(name, data, config=predictor.config.audio)  # decoded once, on the first run
        pred = predictor.predict_file(clip, name=name, timeline=True, emotions=chosen, speaker=speaker)
    except SerError as exc:
        st.error(md(exc))
        return {"file": name, "emotion": "—", "confidence": None, "problem": str(exc)}
    for warning in pred.warnings:
        st.warning(md(warning))
    left, right = st.columns([1, 2])
    with left:
        st.audio(data)
        if pred.emotion is None:
            st.metric("Predicted emotion", f"{'👥' if pred.reason == MANY_VOICES else '🔇'} {pred.reason}")
        else:
            st.metric("Predicted emotion", f"{EMOJI.get(pred.emotion, '')} {pred.emotion}",
                      delta=f"{pred.confidence:.0%} sure", delta_color="off")
        windows = f"; this is the mean of {pred.n_windows} windows of speech" if pred.n_windows > 1 else ""
        st.caption(f"{pred.duration_s:.1f} s of audio; the model listens to {predictor.window_s():.1f} s at a "
                   f"time{windows}.")
    if pred.emotion is None:
        right.info("Several voices at once: the model judges one speaker at a time, so it names no emotion for "
                   "babble, a crowd or a TV audience." if pred.reason == MANY_VOICES else
                   "No speech detected: the model only judges voices, so it names no emotion for noise, tones "
                   "or silence.")
    else:
        right.plotly_chart(probability_figure(pred.probabilities), width="stretch", key=f"p-{name}")
    if explain and pred.emotion is not None:
        if speaker is None:
            why(name, data, clip, pred.emotion)
        else:  # explain() hears no enrolment yet
            st.caption("No explanation: explanations are of the model without your enrolment, not of this answer.")
    if pred.n_windows > 1:  # speech longer than the model's window
        st.plotly_chart(timeline_figure(list(pred.timeline)), width="stretch", key=f"t-{name}")
    correction_form(data, predicted=pred.emotion, key=f"{where}-{name}", name=name, model_dir=model_dir)
    return {"file": name, "emotion": pred.emotion or pred.reason, "confidence": pred.confidence,
            "problem": "; ".join(pred.warnings), **pred.probabilities}


upload_tab, record_tab, live_tab, tune_tab = st.tabs(["📁 Upload files", "🎙️ Record", "🔴 Live",
                                                       "🎯 Tune to my voice"])
with upload_tab:
    files = st.file_uploader("Audio files (WAV, FLAC, OGG, MP3)", type=["wav", "flac", "ogg", "mp3"],
                             accept_multiple_files=True, key="uploads")
    if files and chosen is not BAD:
        rows = [r for f in files if (r := analyse(f.name, f.getvalue(), explain=len(files) == 1))]
        if len(files) > 1:
            st.subheader("All uploads")
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                         column_config={"confidence": st.column_config.ProgressColumn("confidence", min_value=0,
                                                                                     max_value=1, format="percent")})
with record_tab:
    rate = predictor.config.audio.sample_rate_hz  # the built-in recorder records at the model's rate
    st.session_state.setdefault("p_recorder", "Built-in recorder")
    recorder = st.radio("Recorder", ["Built-in recorder", "Hands-free recorder"], key="p_recorder", horizontal=True,
                        help=f"The built-in recorder keeps your voice as it is ({rate / 1000:g} kHz, no automatic "
                             "gain). "
                             "The hands-free one stops by itself when you fall silent, but the browser changes "
                             "the loudness and filters noise, which can mislead the model.")
    if recorder == "Built-in recorder":
        audio = st.audio_input("Press the microphone, speak a sentence, press stop", key="mic", sample_rate=rate)
        recorded = audio.getvalue() if audio else None
    else:
        from audio_recorder_streamlit import audio_recorder

        st.caption("Click the microphone and speak; it stops after 2 seconds of silence.")
        recorded = audio_recorder(text="", pause_threshold=2.0, icon_size="2x", key="mic2")
    if recorded and chosen is not BAD:
        analyse("recording.wav", recorded, explain=True, where="record")
with live_tab:
    if chosen is not BAD:
        from pages._ui.live import live_panel

        live_panel(predictor, chosen)
    if snapshot := st.session_state.get("live_snapshot"):  # (wav bytes, the emotion the meter said) of a kept moment
        correction_form(snapshot[0], predicted=snapshot[1], key="live", name="the kept moment", model_dir=model_dir)
with tune_tab:
    from pages._ui.personal import personal_panel

    personal_panel(model_dir)
