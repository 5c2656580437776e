"""Which clips the dashboard measures a model's robustness on."""

import json

from ser.paths import DEMO_DIR
from ser.results.robustness import robustness_clips

DEMO_LABELS = DEMO_DIR / "all_labels.csv"


def test_its_own_test_speakers_when_their_labels_are_here_else_the_demo_clips(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path / "data"))
    labels = tmp_path / "data" / "mine" / "all_labels.csv"
    labels.parent.mkdir(parents=True)
    labels.write_text("path,emotion,speaker\n")
    model = tmp_path / "models" / "m"
    model.mkdir(parents=True)
    assert robustness_clips(model) == (DEMO_LABELS, None)  # no run.json: the labels are unknown
    (model / "run.json").write_text(json.dumps({"labels": str(labels)}))
    assert robustness_clips(model) == (DEMO_LABELS, None)  # no split.csv: its test clips are unknown
    (model / "split.csv").write_text("path,split\n")
    assert robustness_clips(model) == (labels, "test")
    monkeypatch.setenv("SER_DATA_ROOTS", str(tmp_path / "elsewhere"))
    assert robustness_clips(model) == (DEMO_LABELS, None)  # not in a folder the dashboard may read
    (model / "run.json").write_text("{not json")
    assert robustness_clips(model) == (DEMO_LABELS, None)
