"""Augmentations: hear and see what training does to a clip, one condition at a time."""

import numpy as np
import streamlit as st

from pages._ui.clips import finished_clips, recorded_clip
from pages._ui.datasets import dataset_picker, labels_or_error
from pages._ui.plots import mel_figure, waveform_figure
from pages._ui.state import setup
from pages._ui.text import md
from ser import SerError
from ser.augment.transforms import PANELS, Param, apply_condition
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

st.session_state.setdefault("p_aug_seed", 0)
seed = st.number_input("Random seed", 0, 10_000, key="p_aug_seed", help="The same seed gives the same noise.")


def raw_clip(path: str):
    """The clip as the microphone gave it (mono at the model's rate, not yet trimmed): conditions act here."""
    return recorded_clip(path, name=rel_of.get(path, path))


def babble_sources(path: str, others: tuple[str, ...]):
    """Other speakers' clips, read and finished as training's babble sources are."""
    return finished_clips(others)


@st.cache_data(show_spinner="Applying the condition…", max_entries=64)
def version(path: str, name: str, values: tuple, seed: int, others: tuple[str, ...] = ()):
    y, sr = raw_clip(path)
    sources = babble_sources(path, others) if others else ()
    return apply_condition(y, name, sr=sr, rng=np.random.default_rng(seed), babble_sources=sources, **dict(values))


def control(key: str, param: Param):
    """The widget of one setting of a condition, at its default until moved."""
    st.session_state.setdefault(key, param.default)
    if param.options:
        shown_as = dict(zip(param.options, param.option_labels or param.options))
        return st.segmented_control(param.label, list(param.options), key=key, format_func=shown_as.get,
                                    help=param.help) or param.default
    return st.slider(param.label, param.low, param.high, step=param.step, key=key, help=param.help)


others = tuple(p for p in paths if speaker_of.get(p, p) != speaker_of.get(clip, clip))[:: max(1, len(paths) // 12)][:6]

try:
    raw_clip(clip)
except SerError as exc:
    st.error(md(exc))
    st.stop()
st.caption("Shown as the microphone would give it. Before features, every clip is trimmed of leading and trailing "
           "silence and brought to the same loudness, so a louder or quieter recording changes nothing.")
for start in range(0, len(PANELS), 4):
    for col, cond in zip(st.columns(4), PANELS[start:start + 4]):
        with col:
            st.markdown(f"**{cond.label}**")
            values = tuple((p.name, control(f"p_aug_{cond.name}_{p.name}", p)) for p in cond.params)
            if cond.note:
                st.caption(cond.note)
            try:
                y = version(clip, cond.name, values, int(seed), others if cond.babble else ())
            except SerError as exc:
                st.error(md(exc))
                continue
            sr = raw_clip(clip)[1]
            st.audio(np.clip(y, -1, 1), sample_rate=sr)
            st.plotly_chart(waveform_figure(y, sr, title="", height=140), width="stretch", key=f"w{cond.name}")
            st.plotly_chart(mel_figure(y, sr, title="", height=200), width="stretch", key=f"m{cond.name}")
