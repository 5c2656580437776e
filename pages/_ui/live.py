"""The Predict page's "Live" tab: the microphone streamed to the server (streamlit-webrtc), an emotion
meter that answers about every half second (:class:`ser.serving.live.LiveMeter`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from pages._ui.plots import CROWD_COLOR, EMOJI, EMOTION_COLORS, NO_SPEECH_COLOR
from pages._ui.text import md
from ser.audio.speech import MANY_VOICES
from ser.serving.live import HISTORY_S, HOP_S, LiveMeter, MeterSlot

__all__ = ["live_panel", "live_figure", "frame_samples", "RTC_CONFIGURATION", "REFRESH_S"]

REFRESH_S = 0.25  # the page reads the meter this often: an answer waits at most this long to be shown
# No STUN or TURN server: ICE host candidates only, which is all a browser on the server's own machine (or
# its network) needs, and works without internet. A remote deployment needs its own: see the README.
RTC_CONFIGURATION = {"iceServers": []}
SLOT_KEY = "live_slot"


def frame_samples(frame: Any) -> np.ndarray:
    """An ``av.AudioFrame``'s samples, shape (n, channels), in the frame's own dtype (int16 from Opus)."""
    a = frame.to_ndarray()
    channels = len(frame.layout.channels)
    return a.T if frame.format.is_planar else a.reshape(-1, channels)


def _browser_session() -> bool:
    """Whether this run serves a browser connected to the server (a script test, AppTest, has no session)."""
    from streamlit_webrtc.session_info import get_this_session_info

    try:
        return get_this_session_info() is not None
    except AttributeError:  # AppTest's stand-in runtime has no session manager
        return False


def _slot(predictor: Any, emotions: tuple[str, ...] | None) -> MeterSlot:
    """This browser session's meter slot, for this model and emotion choice (another choice: a new meter)."""
    target = (str(predictor.model_dir), predictor.runtime, emotions)

    def make() -> LiveMeter:
        return LiveMeter(predictor, emotions=emotions)

    slot = st.session_state.get(SLOT_KEY)
    if slot is None:
        slot = st.session_state[SLOT_KEY] = MeterSlot(make)
    elif st.session_state.get(f"{SLOT_KEY}_target") != target:
        slot.retarget(make)
    st.session_state[f"{SLOT_KEY}_target"] = target
    return slot


def live_figure(readings: list, emotions: list[str], *, now_s: float, height: int = 320) -> go.Figure:
    """The last ``HISTORY_S`` seconds of readings: each emotion's probability stacked, grey where nobody speaks.

    Parameters
    ----------
    readings : list of ser.serving.live.Reading, oldest first
    emotions : the emotions that can be answered, in the model's order
    now_s : float, the stream's time at the right edge
    """
    t = np.array([r.time_s for r in readings]) - now_s
    fig = go.Figure()
    none = [r.emotion is None for r in readings]
    for name in emotions:
        fig.add_trace(go.Scatter(x=t, y=[r.probabilities.get(name, 0.0) for r in readings], name=name,
                                 mode="lines", stackgroup="p", line={"width": 0.5, "color": EMOTION_COLORS.get(name)}))
    fig.add_trace(go.Scatter(x=t, y=[float(n and r.reason != MANY_VOICES) for n, r in zip(none, readings)],
                             name="no speech", mode="lines", stackgroup="p",
                             line={"width": 0.5, "color": NO_SPEECH_COLOR}))
    fig.add_trace(go.Scatter(x=t, y=[float(n and r.reason == MANY_VOICES) for n, r in zip(none, readings)],
                             name="several voices", mode="lines", stackgroup="p",
                             line={"width": 0.5, "color": CROWD_COLOR}))
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="The last 30 seconds",
                      yaxis={"range": [0, 1], "tickformat": ".0%"}, xaxis={"range": [-HISTORY_S, 0]},
                      xaxis_title="seconds ago", legend={"orientation": "h", "y": -0.35})
    return fig


@st.fragment(run_every=REFRESH_S)
def _meter_view(slot: MeterSlot, emotions: list[str]) -> None:
    meter = slot.meter
    if slot.error:
        st.error(md(slot.error) + " Press Stop, then Start listening to try again.")
        return
    if meter is None:
        st.caption("Waiting for the microphone's first sound…")
        return
    readings = meter.readings()
    latest = readings[-1] if readings else None
    left, right = st.columns([1, 2])
    with left:
        if latest is None:
            st.metric("Now", "👂 listening…")
        elif latest.emotion is None:
            st.metric("Now", f"{'👥' if latest.reason == MANY_VOICES else '🔇'} {md(latest.reason)}")
        else:
            st.metric("Now", f"{EMOJI.get(latest.emotion, '')} {md(latest.emotion)}",
                      delta=f"{latest.confidence:.0%} sure", delta_color="off")
        st.caption(f"The last {meter.window_s:.1f} s of your voice, every {HOP_S:g} s"
                   + (f"; answered {latest.latency_s * 1000:.0f} ms after it was heard." if latest else "."))
        if st.button("📸 Keep this moment", key="live_keep", disabled=latest is None,
                     help="Keep the seconds of this answer, to listen to them or to say what the emotion really was."):
            moment = meter.moment()
            if moment is not None:
                st.session_state["live_snapshot"] = (moment[0], moment[1].emotion)
                st.rerun(scope="app")  # the page's correction form reads the snapshot
    with right:
        if readings:
            st.plotly_chart(live_figure(readings, emotions, now_s=readings[-1].time_s), width="stretch",
                            key="live-chart")


def live_panel(predictor: Any, emotions: tuple[str, ...] | None) -> None:
    """Draw the Live tab: Start/Stop of the microphone, the current emotion and the last 30 seconds.

    Parameters
    ----------
    predictor : ser.serving.predict.Predictor
    emotions : the emotions to answer among (``None``: every emotion of the model), already checked
    """
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    if not _browser_session():
        st.info("The live meter streams a browser's microphone: open the dashboard in a browser (streamlit run).")
        return
    st.caption("Press **Start listening** and speak: about every half second the model judges your last "
               f"{predictor.window_s():.0f} seconds. Your voice is not kept unless you keep a moment.")
    slot = _slot(predictor, emotions)

    async def frames_in(frames: list) -> list:  # in streamlit-webrtc's audio thread: copy, resample, hand over
        for frame in frames:
            slot.feed(frame_samples(frame), sr=frame.sample_rate)
        return frames

    ctx = webrtc_streamer(key="live-meter", mode=WebRtcMode.SENDONLY, rtc_configuration=RTC_CONFIGURATION,
                          media_stream_constraints={"audio": True, "video": False},
                          queued_audio_frames_callback=frames_in, on_audio_ended=slot.close,
                          translations={"start": "Start listening", "stop": "Stop"})
    if ctx.state.playing:
        _meter_view(slot, [e for e in predictor.emotions if emotions is None or e in emotions])
    else:
        slot.close()  # stopped: the meter and its thread end
    snapshot = st.session_state.get("live_snapshot")
    if snapshot:
        wav, emotion = snapshot
        st.markdown(f"**Kept moment** ({md(emotion) if emotion else 'no emotion'}):")
        st.audio(wav, format="audio/wav")
