"""The clip a person hears the recording conditions on, and the voices of its babble."""

import pandas as pd

from ser.paths import DEMO_DIR
from ser.results.robustness import example_for_conditions

DEMO_LABELS = DEMO_DIR / "all_labels.csv"


def test_the_example_is_the_first_clip_and_the_babble_one_clip_of_each_other_speaker():
    rows = pd.read_csv(DEMO_LABELS)
    ex = example_for_conditions(DEMO_LABELS)
    assert ex.name == rows.path[0] and ex.emotion == rows.emotion[0] and ex.path == DEMO_DIR / rows.path[0]
    others = rows[rows.speaker != rows.speaker[0]]
    assert len(ex.babble) == others.speaker.nunique() == 5
    assert all(p.is_file() for p in ex.babble)
    assert {rows.set_index("path").speaker[str(p.relative_to(DEMO_DIR))] for p in ex.babble} == set(others.speaker)
