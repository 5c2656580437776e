import pandas as pd
import pytest

from ser.errors import LabelsError
from ser.labels import read_labels
from ser.split import split_labels


def test_speaker_split_on_ravdess_is_disjoint_and_stratified(ravdess):
    split = split_labels(read_labels(ravdess / "all_labels.csv"), seed=0)
    assert split.attrs["split_mode"] == "speaker"
    speakers = {s: set(split[split.split == s].speaker) for s in ("train", "val", "test")}
    assert not (speakers["train"] & speakers["val"]) and not (speakers["train"] & speakers["test"])
    assert not (speakers["val"] & speakers["test"])
    frac = split.split.value_counts(normalize=True)
    assert frac["test"] == pytest.approx(0.2, abs=0.03)
    assert frac["val"] == pytest.approx(0.08, abs=0.04)
    # every emotion appears in every split
    assert (split.groupby(["split", "emotion"]).size().unstack() > 0).all().all()


def test_clip_split_when_speakers_unknown(ravdess):
    labels = read_labels(ravdess / "all_labels.csv").head(200).assign(speaker="")
    split = split_labels(labels, seed=1)
    assert split.attrs["split_mode"] == "clip"
    assert split.split.value_counts()["test"] == 40


def test_speaker_mode_needs_speakers(ravdess):
    labels = read_labels(ravdess / "all_labels.csv").head(50).assign(speaker="")
    with pytest.raises(LabelsError, match="split_mode='speaker' needs a speaker"):
        split_labels(labels, mode="speaker")


def test_no_augmented_copy_crosses_a_split(trained_quick_model):
    """The run's split.csv and its test predictions: test clips are originals of test speakers only."""
    split = pd.read_csv(trained_quick_model / "split.csv")
    preds = pd.read_csv(trained_quick_model / "predictions.csv")
    test_paths = set(split[split.split == "test"].path)
    assert set(preds.path) == test_paths  # no '#noise' etc. in the evaluated clips
    train_speakers = set(split[split.split == "train"].speaker)
    assert not train_speakers & set(split[split.split == "test"].speaker)
