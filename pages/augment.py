"""Augmentations: hear and see what training does to a clip, one condition at a time."""

import numpy as np
import streamlit as st

from pages._ui.clips import recorded_clip
from pages._ui.datasets import dataset_picker, labels_or_error
from pages._ui.plots import mel_figure, waveform_figure
from pages._ui.state import setup
from pages._ui.text import md
from ser import SerError
from ser.config import AugmentConfig
from ser.datasets.labels import usable_rows

setup()
st.title("🎛️ Augmentations")
st.caption("Training hears every training clip four ways: as recorded; through a random recording condition "
           "(a room, background noise or other voices, a microphone's colour, a phone line or codec, a gain "
           "that may clip); faster or slower; and higher or lower, those two often with a recording condition "
           "as well. Each condition is shown here on its own: move the sliders to hear what the model will hear. "
           "Validation and test clips are never changed.")

csv = dataset_picker()
labels, problems = labels_or_error(csv)
if labels is None:
    st.stop()
ok = usable_rows(labels, problems)
if ok.empty:
    st.warning("This dataset has no usable clip.")
    st.stop()
paths = list(ok["abspath"])
if st.session_state.get("p_clip") not in paths:
    st.session_state["p_clip"] = paths[0]
names = dict(zip(ok["abspath"], ok["path"] + " · " + ok["emotion"].astype(str)))
rel_of = dict(zip(ok["abspath"], ok["path"]))
clip = st.selectbox("Clip", paths, key="p_clip", format_func=names.get)
speaker_of = dict(zip(ok["abspath"], ok["speaker"].astype(str))) if "speaker" in ok else {}

d = AugmentConfig()
defaults = {"p_aug_snr": 20.0, "p_aug_rate": 1.2, "p_aug_steps": 2.0, "p_aug_seed": 0, "p_aug_color": "pink",
            "p_aug_color_snr": 15.0, "p_aug_babble_snr": 10.0, "p_aug_rt60": 0.6, "p_aug_tilt": 3.0,
            "p_aug_codec": "mp3", "p_aug_mp3": 0.9, "p_aug_gain": 10.0, "p_aug_clip": 99.0}
for key, default in defaults.items():
    st.session_state.setdefault(key, default)
seed = st.number_input("Random seed", 0, 10_000, key="p_aug_seed", help="The same seed gives the same noise.")


def raw_clip(path: str):
    """The clip as the microphone gave it (mono at the model's rate, not yet trimmed): conditions act here."""
    return recorded_clip(path, name=rel_of.get(path, path))


@st.cache_data(show_spinner=False, max_entries=4)
def babble_sources(path: str, others: tuple[str, ...]):
    from ser.audio.reader import load_audio

    return [load_audio(p)[0] for p in others]


@st.cache_data(show_spinner="Applying the condition…", max_entries=64)
def version(path: str, kind: str, params: tuple, seed: int, others: tuple[str, ...] = ()):
    from ser.augment import conditions as c
    from ser.augment.training import AddGaussianNoise, PitchShift, TimeStretch

    y, sr = raw_clip(path)
    rng = np.random.default_rng(seed)
    if kind == "original":
        return y
    if kind == "noise":
        return AddGaussianNoise(params[0], params[0])(y, sr=sr, rng=rng)
    if kind == "stretch":
        return TimeStretch(params[0], params[0])(y, sr=sr, rng=rng)
    if kind == "pitch":
        return PitchShift(params[0], params[0])(y, sr=sr, rng=rng)
    if kind == "colored":
        return c.mix_at_snr(y, c.colored_noise(y.size, color=params[0], rng=rng), snr_db=params[1])
    if kind == "babble":
        return c.mix_at_snr(y, c.babble(babble_sources(path, others), n=y.size, rng=rng), snr_db=params[0])
    if kind == "room":
        return c.reverberate(y, rir=c.room_impulse_response(sr=sr, rt60_s=params[0]))
    if kind == "eq":
        return c.eq_tilt(y, sr=sr, db_per_octave=params[0])
    if kind == "telephone":
        return c.telephone(y, sr=sr)
    if kind == "codec":
        return c.codec(y, sr=sr, kind=params[0], compression_level=params[1])
    if kind == "gain":
        return c.clip_peaks(c.apply_gain(y, gain_db=params[0]), percentile=params[1])
    if kind == "recording":
        sources = babble_sources(path, others) if others else ()
        return c.RecordingChain.from_config(AugmentConfig(), babble_sources=sources)(y, sr=sr, rng=rng)
    raise ValueError(kind)


others = tuple(p for p in paths if speaker_of.get(p, p) != speaker_of.get(clip, clip))[:: max(1, len(paths) // 12)][:6]

panels = [
    ("Original", "original", (), lambda: None),
    ("White noise", "noise", None, lambda: (st.slider("Signal-to-noise (dB)", 0.0, 40.0, key="p_aug_snr",
                                                      help="Lower means louder noise."),)),
    ("Time stretch", "stretch", None, lambda: (st.slider("Speed", 0.5, 2.0, key="p_aug_rate",
                                                         help=f"Above 1 is faster. Training draws it between "
                                                              f"{d.stretch_rate_min:g} and {d.stretch_rate_max:g}."),)),
    ("Pitch shift", "pitch", None, lambda: (st.slider("Semitones", -6.0, 6.0, key="p_aug_steps",
                                                      help=f"Training draws it between {d.pitch_semitones_min:g} "
                                                           f"and {d.pitch_semitones_max:g}."),)),
    ("Coloured noise", "colored", None, lambda: (
        st.segmented_control("Colour", ["white", "pink", "brown"], key="p_aug_color",
                             help="Pink and brown noise are deeper, like traffic, fans or wind.") or "pink",
        st.slider("Signal-to-noise (dB) ", 0.0, 40.0, key="p_aug_color_snr",
                  help=f"Training draws it between {d.noise_snr_db_min:g} and {d.noise_snr_db_max:g} dB."))),
    ("Other voices (babble)", "babble", None, lambda: (
        st.slider("Signal-to-babble (dB)", 0.0, 40.0, key="p_aug_babble_snr",
                  help="Other speakers of this dataset talking at once; training uses other training speakers."),)),
    ("Room reverberation", "room", None, lambda: (
        st.slider("RT60 (seconds)", 0.1, 1.5, step=0.05, key="p_aug_rt60",
                  help=f"How long the room rings. Training draws rooms between {d.rt60_s_min:g} and "
                       f"{d.rt60_s_max:g} s."),)),
    ("Microphone colour (EQ tilt)", "eq", None, lambda: (
        st.slider("dB per octave", -6.0, 6.0, key="p_aug_tilt",
                  help=f"Above 0 is brighter, below 0 duller. Training draws up to ±{d.eq_tilt_db_per_octave_max:g}."),)),
    ("Telephone line", "telephone", (), lambda: st.caption("300–3400 Hz at 8 kHz, as a landline carries it.")),
    ("Codec", "codec", None, lambda: (
        st.segmented_control("Codec", ["mp3", "gsm"], key="p_aug_codec", format_func=str.upper,
                             help="MP3 at a low bitrate, or GSM, the codec of 2G phone calls.") or "mp3",
        st.slider("MP3 compression (1 = worst)", 0.0, 0.98, key="p_aug_mp3",
                  help="0.9 is about 24 kbit/s."))),
    ("Gain and clipping", "gain", None, lambda: (
        st.slider("Gain (dB)", -30.0, 20.0, key="p_aug_gain",
                  help="Louder than full scale clips, as a recorder set too high does."),
        st.slider("Clip at percentile of the peaks", 90.0, 100.0, key="p_aug_clip",
                  help="Below 100 flattens the loudest peaks: mild distortion."))),
    ("A random recording", "recording", (), lambda: st.caption("One draw of the whole chain, as training makes "
                                                               "it; change the seed for another.")),
]

try:
    raw_clip(clip)
except SerError as exc:
    st.error(md(exc))
    st.stop()
st.caption("Shown as the microphone would give it. Before features, every clip is trimmed of leading and trailing "
           "silence and brought to the same loudness, so a louder or quieter recording changes nothing.")
for start in range(0, len(panels), 4):
    for col, (title, kind, fixed, controls) in zip(st.columns(4), panels[start:start + 4]):
        with col:
            st.markdown(f"**{title}**")
            params = controls()
            params = fixed if fixed is not None else tuple(params)
            try:
                y = version(clip, kind, params, int(seed), others if kind in ("babble", "recording") else ())
            except SerError as exc:
                st.error(md(exc))
                continue
            sr = raw_clip(clip)[1]
            st.audio(np.clip(y, -1, 1), sample_rate=sr)
            st.plotly_chart(waveform_figure(y, sr, title="", height=140), width="stretch", key=f"w{kind}")
            st.plotly_chart(mel_figure(y, sr, title="", height=200), width="stretch", key=f"m{kind}")
