import json

import numpy as np
import pytest

from ser.config import for_preset
from ser.training.cv import cross_validate, speaker_folds
from ser.errors import LabelsError
from ser.datasets.labels import read_labels
from ser.datasets.split import split_labels


def test_speaker_folds_keep_each_voice_in_one_fold():
    speakers = np.repeat(np.array([f"{i:02d}" for i in range(8)]), 16)
    emotions = np.tile(np.repeat(np.arange(8), 2), 8)
    fold = speaker_folds(speakers, emotions, n_folds=4, seed=0)
    assert set(fold) == {0, 1, 2, 3}
    for s in np.unique(speakers):
        assert len(set(fold[speakers == s])) == 1
    assert sorted(np.bincount(fold)) == [32, 32, 32, 32]  # two speakers per fold


def test_speaker_folds_need_enough_speakers():
    with pytest.raises(LabelsError, match="n_folds=5 needs between 2 and 3"):
        speaker_folds(np.array(["a", "b", "c"]), np.array([0, 1, 2]), n_folds=5)


def test_cross_validation_never_touches_the_test_speakers(small_subset, feature_cache, tmp_path):
    config = for_preset("quick", epochs=2)
    result = cross_validate(small_subset, config, n_folds=2, cache_dir=feature_cache, out_dir=tmp_path)
    split = split_labels(read_labels(small_subset), seed=0)
    test_speakers = sorted(split.loc[split.split == "test", "speaker"].astype(str).unique())
    assert result["test_speakers"] == test_speakers
    scored = sorted(s for fold in result["folds"] for s in fold["speakers"])
    assert not set(scored) & set(test_speakers)
    assert sorted(set(split.loc[split.split != "test", "speaker"].astype(str))) == scored
    assert [f["epochs_run"] for f in result["folds"]] == [2, 2]
    saved = np.load(tmp_path / "cv_probs.npz")
    assert saved["probs"].shape == ((split.split != "test").sum(), 8)
    assert np.allclose(saved["probs"].sum(axis=1), 1, atol=1e-4)
    from ser import EMOTIONS

    predicted = np.array(EMOTIONS)[saved["probs"].argmax(axis=1)]
    assert result["accuracy"] == pytest.approx(np.mean(predicted == saved["y_true"]))  # pooled over the folds
    assert json.loads((tmp_path / "cv.json").read_text())["macro_f1"] == result["macro_f1"]


def test_stopping_during_training_raises_stopped(small_subset, feature_cache):
    from ser.errors import Stopped

    seen = []
    with pytest.raises(Stopped, match="cross-validation stopped in fold 1 of 2: stop requested"):
        cross_validate(small_subset, for_preset("quick", epochs=50), n_folds=2, cache_dir=feature_cache,
                       progress=seen.append, should_stop=lambda: any(e["stage"] == "epoch" for e in seen))
    assert not any(e["stage"] == "fold" for e in seen)
