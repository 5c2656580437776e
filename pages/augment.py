"""Augmentations: hear and see what training does to a clip."""

import numpy as np
import streamlit as st

from pages._shared import dataset_picker, labels_or_error, mel_figure, setup, waveform_figure
from ser import SerError
from ser.augment import AddGaussianNoise, PitchShift, TimeStretch
from ser.config import AugmentConfig
from ser.labels import usable_rows

setup()
st.title("🎛️ Augmentations")
st.caption("Training hears every training clip four ways: as recorded, with background noise, faster or slower, "
           "and higher or lower. Move the sliders to hear what the model will hear.")

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
clip = st.selectbox("Clip", paths, key="p_clip", format_func=names.get)

d = AugmentConfig()
for key, default in {"p_aug_snr": (d.noise_snr_db_min + d.noise_snr_db_max) / 2, "p_aug_rate": 1.2,
                     "p_aug_steps": 2.0, "p_aug_seed": 0}.items():
    st.session_state.setdefault(key, default)
c1, c2, c3, c4 = st.columns(4)
snr = c1.slider("Noise: signal-to-noise (dB)", 0.0, 40.0, key="p_aug_snr",
                help="Lower means louder noise. Training draws it between "
                     f"{d.noise_snr_db_min:g} and {d.noise_snr_db_max:g} dB.")
rate = c2.slider("Time stretch: speed", 0.5, 2.0, key="p_aug_rate",
                 help=f"Above 1 is faster. Training draws it between {d.stretch_rate_min:g} and "
                      f"{d.stretch_rate_max:g}.")
steps = c3.slider("Pitch shift: semitones", -6.0, 6.0, key="p_aug_steps",
                  help=f"Training draws it between {d.pitch_semitones_min:g} and {d.pitch_semitones_max:g}.")
seed = c4.number_input("Random seed", 0, 10_000, key="p_aug_seed",
                       help="The same seed gives the same noise.")


@st.cache_data(show_spinner="Applying augmentations…", max_entries=32)
def versions(path: str, snr: float, rate: float, steps: float, seed: int):
    from ser.audio import load_audio

    y, sr = load_audio(path)
    rng = np.random.default_rng(seed)
    return sr, {
        "Original": y,
        f"Noise ({snr:g} dB SNR)": AddGaussianNoise(snr, snr)(y, sr=sr, rng=rng),
        f"Time stretch (×{rate:g})": TimeStretch(rate, rate)(y, sr=sr, rng=rng),
        f"Pitch shift ({steps:+g} semitones)": PitchShift(steps, steps)(y, sr=sr, rng=rng),
    }


try:
    sr, out = versions(clip, snr, rate, steps, int(seed))
except SerError as exc:
    st.error(str(exc))
    st.stop()
st.caption("Leading and trailing silence is trimmed first, as in training.")
for col, (title, y) in zip(st.columns(4), out.items()):
    with col:
        st.markdown(f"**{title}**")
        st.audio(y, sample_rate=sr)
        st.caption(f"{len(y) / sr:.2f} s")
        st.plotly_chart(waveform_figure(y, sr, title="", height=160), width="stretch", key=f"w{title}")
        st.plotly_chart(mel_figure(y, sr, title="", height=220), width="stretch", key=f"m{title}")
