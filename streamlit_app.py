"""Speech Emotion Recognition dashboard: a router of pages, nothing more."""

import streamlit as st

from pages._ui.housekeeping import sidebar

st.set_page_config(page_title="Speech Emotion Recognition", page_icon="🎙️", layout="wide")

page = st.navigation([
    st.Page("pages/dataset.py", title="Dataset", icon="📂", default=True),
    st.Page("pages/augment.py", title="Augmentations", icon="🎛️"),
    st.Page("pages/train.py", title="Train", icon="🏋️"),
    st.Page("pages/evaluate.py", title="Evaluate", icon="📊"),
    st.Page("pages/predict.py", title="Predict", icon="🔮"),
])
try:
    page.run()
except (OSError, MemoryError) as exc:  # a file the server cannot read or write: one line, never a traceback
    from pages._ui.text import server_problem

    st.error(server_problem(exc))
finally:  # the housekeeping after the page (also when it stops early): it kept the first heading waiting 0.4 s
    sidebar()
