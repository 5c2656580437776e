"""Dataset: what is in a labelled folder, what is wrong with it, and what a clip looks like."""

import streamlit as st

from pages._ui.state import setup, short
from pages._ui.text import md, plot_text

setup()
st.title("📂 Dataset")
st.caption("Browse labelled clips: how many of each emotion and speaker, any problems in the labels, "
           "and what each clip sounds and looks like; or bring your own: upload a zip, or record clips.")
MODES = ["Browse", "New dataset from files", "Record clips"]
mode = st.radio("View", MODES, horizontal=True, key="p_ds_mode", label_visibility="collapsed")
if st.session_state.get("nd_saved"):
    st.success(md(st.session_state.pop("nd_saved")))
if mode != "Browse":
    from pages._ui.collect import new_dataset_from_files, record_clips

    if mode == MODES[1]:
        new_dataset_from_files()
    else:
        record_clips()
    st.stop()
# The landing page: its heading is drawn before the libraries the rest of it needs are imported.
import pandas as pd  # noqa: E402
import plotly.express as px  # noqa: E402

from pages._ui.datasets import dataset_picker, labels_or_error  # noqa: E402
from pages._ui.plots import EMOTION_COLORS, heatmap_figure, waveform_figure  # noqa: E402
from ser import EMOTIONS, SerError  # noqa: E402
from ser.csvsafe import to_csv_text  # noqa: E402
from ser.datasets.browse import clips_per_emotion, clips_per_speaker, filter_clips, overview, speakers  # noqa: E402
from ser.datasets.labels import speaker_split_problem, training_problem, usable_rows  # noqa: E402

csv = dataset_picker()
labels, problems = labels_or_error(csv)
if labels is None:
    st.stop()

ok = usable_rows(labels, problems)
totals = overview(labels)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Clips", f"{totals['clips']:,}")
c2.metric("Speakers", totals["speakers"])
c3.metric("Total duration", f"{totals['minutes']:.1f} min")
c4.metric("Problems", len(problems))

left, right = st.columns(2)
per_emotion = clips_per_emotion(labels)
fig = px.bar(x=per_emotion.index, y=per_emotion.values, color=per_emotion.index,
             color_discrete_map=EMOTION_COLORS, labels={"x": "emotion", "y": "clips"}, title="Clips per emotion")
fig.update_layout(showlegend=False, height=380)
left.plotly_chart(fig, width="stretch")
per_speaker = clips_per_speaker(labels)
if per_speaker is not None:
    per_speaker["speaker"] = per_speaker["speaker"].map(plot_text)  # a name is a label, never a link
    fig = px.bar(per_speaker, x="speaker", y="clips", color="emotion", color_discrete_map=EMOTION_COLORS,
                 title="Clips per speaker")
    fig.update_layout(height=380, legend_title_text="")
    right.plotly_chart(fig, width="stretch")
else:
    right.info("This dataset names no speakers.")
cannot, no_speakers = training_problem(ok), speaker_split_problem(ok)
if cannot:
    st.warning(f"Training on this dataset is not possible: {md(cannot)}.")
elif no_speakers:
    st.warning(f"Training cannot split this dataset by speaker: {md(no_speakers)}. The Train page offers a split by "
               "clip instead, where speakers overlap and the test scores are on voices heard in training.")

if problems:
    st.subheader(f"⚠️ {len(problems)} problems in the labels")
    st.caption("These clips are left out of training and evaluation. Fix the file or the row in "
               f"{md(short(csv))} to bring them back.")
    st.dataframe(pd.DataFrame([vars(p) for p in problems]), hide_index=True, width="stretch")
else:
    st.success("No problems found: every row names a readable audio file and a known emotion.")

st.subheader("Clips")
f1, f2, f3 = st.columns([1, 1, 2])
emotions = f1.multiselect("Emotion", EMOTIONS, key="p_ds_emotions")
chosen = f2.multiselect("Speaker", speakers(labels), key="p_ds_speakers")
text = f3.text_input("Search in file names", key="p_ds_text")
view = filter_clips(ok, emotions=emotions, speakers=chosen, text=text)
st.caption(f"{len(view)} of {len(ok)} usable clips. Click a row to listen to it and see it.")
table = st.dataframe(view[["path", "emotion", "speaker", "duration_s"]], hide_index=True, width="stretch",
                     height=260, on_select="rerun", selection_mode="single-row", key="ds_table",
                     column_config={"duration_s": st.column_config.NumberColumn("duration (s)", format="%.2f")})
st.download_button("These clips (CSV)", to_csv_text(view[["path", "emotion", "speaker", "duration_s"]]),
                   file_name="clips.csv", mime="text/csv", on_click="ignore", key="ds_table_csv")  # formulas as text
rows = table.selection.rows if table and table.selection else []
if not len(view):
    st.stop()
clip = view.iloc[rows[0] if rows else 0]
st.session_state["p_clip"] = clip["abspath"]

st.subheader(f"🎧 {md(clip['path'])}")
st.caption(f"Emotion **{md(clip['emotion'])}** · speaker **{md(clip['speaker'] or 'unknown')}** · "
           f"{clip['duration_s']:.2f} s" + ("" if rows else " · (first clip shown; select another in the table)"))
try:
    from pages._ui.clips import recorded_clip

    y, sr = recorded_clip(clip["abspath"], name=clip["path"])  # refused from its header when too long
except SerError as exc:
    st.error(md(exc))
    st.stop()
st.audio(y, sample_rate=sr)
st.plotly_chart(waveform_figure(y, sr), width="stretch")
from ser.config import Config  # noqa: E402  (only once a clip is shown)
from ser.features.extract import model_view  # noqa: E402

config = Config()
try:
    rows_of = model_view(y, sr=sr, config=config, name=clip["path"])
except SerError as exc:
    st.error(md(exc))
    st.stop()
f = config.features
st.caption(f"What the model sees: the clip trimmed of silence, brought to {config.audio.target_level_dbfs:g} dBFS, "
           + ("cut to, or repeated to fill, " if f.pad_mode == "repeat" else "cut or padded with silence to ")
           + f"{f.max_frames} frames of {1000 * f.hop_length / config.audio.sample_rate_hz:g} ms "
           f"({f.max_frames * f.hop_length / config.audio.sample_rate_hz:.2f} s).")
a, b = st.columns(2)
rate = config.audio.sample_rate_hz
a.plotly_chart(heatmap_figure(rows_of["mel"], sr=rate, hop_length=f.hop_length, title="Mel spectrogram (dB)",
                              y_label="mel band", colorbar="dB"), width="stretch")
b.plotly_chart(heatmap_figure(rows_of["mfcc"], sr=rate, hop_length=f.hop_length, title="MFCC",
                              y_label="coefficient", colorbar="value"), width="stretch")
