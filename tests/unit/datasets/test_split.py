import pandas as pd
import pytest

from ser.errors import LabelsError
from ser.datasets.labels import read_labels
from ser.datasets.split import split_labels


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


def test_clip_split_when_chosen(ravdess):
    labels = read_labels(ravdess / "all_labels.csv").head(200).assign(speaker="")
    split = split_labels(labels, mode="clip", seed=1)
    assert split.attrs["split_mode"] == "clip"
    assert split.split.value_counts()["test"] == 40


def test_speaker_mode_needs_speakers(ravdess):
    labels = read_labels(ravdess / "all_labels.csv").head(50).assign(speaker="")
    with pytest.raises(LabelsError, match="cannot split by speaker: 50 clips name no speaker"):
        split_labels(labels, mode="speaker")


# Never a silent switch to a clip split; never a scikit-learn traceback.

def _ravdess_rows(ravdess, *, speakers, per_emotion=3):
    labels = read_labels(ravdess / "all_labels.csv")
    rows = labels[labels.speaker.isin(speakers)].groupby(["speaker", "emotion"]).head(per_emotion)
    return rows.reset_index(drop=True)


def test_one_empty_speaker_cell_is_refused_not_a_silent_clip_split(ravdess):
    labels = read_labels(ravdess / "all_labels.csv")
    labels.loc[7, "speaker"] = ""
    with pytest.raises(LabelsError, match=r"all_labels\.csv: cannot split by speaker: 1 clip names no speaker "
                                          r"\(first: Actor_01/.*\); .*--split-mode clip"):
        split_labels(labels)  # the default: by speaker


@pytest.mark.parametrize("speakers", [["Actor_01"], ["Actor_01", "Actor_02"]])
def test_one_or_two_speakers_say_so_and_a_clip_split_still_works(ravdess, speakers):
    labels = _ravdess_rows(ravdess, speakers=speakers, per_emotion=3)
    with pytest.raises(LabelsError, match=f"needs at least 3 speakers of every emotion .*: neutral has "
                                          f"{len(speakers)}"):
        split_labels(labels)
    split = split_labels(labels, mode="clip", seed=0)  # chosen knowingly: 24 or 48 clips, 8 emotions
    assert (split.groupby(["split", "emotion"]).size().unstack() > 0).all().all()


def test_one_emotion_is_refused(ravdess):
    labels = read_labels(ravdess / "all_labels.csv")
    with pytest.raises(LabelsError, match=r"all_labels\.csv: only one emotion \(sad\) among the 160 usable clips"):
        split_labels(labels[labels.emotion == "sad"].reset_index(drop=True), mode="clip")


def test_no_augmented_copy_crosses_a_split(trained_quick_model):
    """The run's split.csv and its test predictions: test clips are originals of test speakers only."""
    split = pd.read_csv(trained_quick_model / "split.csv")
    preds = pd.read_csv(trained_quick_model / "predictions.csv")
    test_paths = set(split[split.split == "test"].path)
    assert set(preds.path) == test_paths  # no '#noise' etc. in the evaluated clips
    train_speakers = set(split[split.split == "train"].speaker)
    assert not train_speakers & set(split[split.split == "test"].speaker)
