"""The features a training sees: augmented training clips only, babble of training voices only."""

from ser.config import for_preset
from ser.training.dataset import features_for_split
from ser.datasets.labels import read_labels
from ser.datasets.split import split_labels


def test_only_training_clips_are_augmented(small_subset, feature_cache):
    labels = read_labels(small_subset)
    split = split_labels(labels, seed=0)
    config = for_preset("quick")
    data, failed = features_for_split(split, config, cache_dir=feature_cache, progress=lambda e: None,
                                       should_stop=lambda: False)
    assert not failed
    speaker_of = dict(zip(split.path, split.speaker))
    for part in ("val", "test"):
        assert all("#" not in p for p in data[part]["path"])  # originals only
    augmented = [p for p in data["train"]["path"] if "#" in p]
    assert len(augmented) == 3 * (split.split == "train").sum()
    train_speakers = {speaker_of[p.split("#")[0]] for p in data["train"]["path"]}
    held_out = {speaker_of[p] for part in ("val", "test") for p in data[part]["path"]}
    assert not train_speakers & held_out


def test_babble_is_made_of_training_speakers_only(small_subset, feature_cache, monkeypatch):
    import ser.features.engine

    seen = []
    real = ser.features.engine.extract_many

    def spy(tasks, **kw):
        seen.extend(tasks)
        return real(tasks, **kw)

    monkeypatch.setattr(ser.features.engine, "extract_many", spy)
    split = split_labels(read_labels(small_subset), seed=0)
    features_for_split(split, for_preset("quick"), cache_dir=feature_cache, progress=lambda e: None,
                        should_stop=lambda: False)
    part = dict(zip(split.abspath, split.split))
    speaker = dict(zip(split.abspath, split.speaker))
    train_tasks = [t for t in seen if part[t.path] == "train"]
    assert train_tasks and all(t.babble for t in train_tasks)
    for t in seen:
        assert all(part[b] == "train" and speaker[b] != speaker[t.path] for b in t.babble)
        if part[t.path] != "train":
            assert t.versions == ("original",) and not t.babble
