import json

import pytest

from ser.config import Config, FeatureConfig, TrainConfig, for_preset
from ser.errors import ConfigError


def test_round_trip(tmp_path):
    c = for_preset("quick", epochs=5, seed=3, augment=False)
    c.save(tmp_path / "config.json")
    assert Config.load(tmp_path / "config.json") == c
    assert json.loads((tmp_path / "config.json").read_text())["features"]["max_frames"] == 96


def test_frozen_and_182_rows():
    import dataclasses

    c = Config()
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'n_mels'"):
        c.features.n_mels = 64  # type: ignore[misc]
    assert c.features.n_features == 182
    assert c.features.window_s(16_000) == pytest.approx(95 * 512 / 16_000)


def test_preset_learning_rates():
    assert for_preset("seed").train.learning_rate == 5e-5
    assert for_preset("default", learning_rate=0.01).train.learning_rate == 0.01


@pytest.mark.parametrize("make,match", [
    (lambda: TrainConfig(preset="huge"), "preset='huge' is unknown"),
    (lambda: TrainConfig(epochs=0), "epochs=0 must be at least 1"),
    (lambda: TrainConfig(split_mode="random"), "split_mode='random' is unknown"),
    (lambda: FeatureConfig(max_frames=2), "max_frames=2 is too small"),
])
def test_bad_values_say_what_to_do(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


def test_load_errors(tmp_path):
    with pytest.raises(ConfigError, match="no config.json here"):
        Config.load(tmp_path / "config.json")
    data = Config().to_dict()
    data["train"]["colour"] = "red"
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="unknown or missing field"):
        Config.load(tmp_path / "config.json")


def test_unknown_training_setting_is_named():
    with pytest.raises(ConfigError, match="unknown training setting frame_dropuot"):
        for_preset("default", frame_dropuot=0.1)


def test_a_config_from_before_level_normalisation_keeps_the_audio_it_was_trained_on():
    old = Config().to_dict()
    for key in ("level_norm", "target_level_dbfs", "level_gate_db"):
        del old["audio"][key]
    assert Config.from_dict(old).audio.level_norm is False
    assert Config.from_dict(Config().to_dict()).audio.level_norm is True


# A config.json that ser did not write (or that was damaged) is one line naming the file and the fix.

@pytest.mark.parametrize("text,what", [
    ("[]", "is a JSON list, not the settings object ser writes"),
    ("null", "is a JSON null, not the settings object ser writes"),
    ('{"train": {}}', "lacks audio, features, emotions"),
    ('{"audio": {}, "features": null, "train": {}, "emotions": ["sad", "happy"]}', "features is not an object"),
    ('{"audio": {}, "features": {}, "train": {}, "emotions": "sad"}',
     r"emotions is not a list of emotion names \(at least two, each once\)"),
])
def test_a_config_that_is_not_sers_is_one_line(tmp_path, text, what):
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(ConfigError, match=rf"config\.json: {what}; retrain or restore config\.json\.$"):
        Config.load(tmp_path / "config.json")


def test_a_config_that_is_a_folder_or_not_text_says_so(tmp_path):
    (tmp_path / "config.json").mkdir()
    with pytest.raises(ConfigError, match=r"config\.json: is a folder, not a file; retrain or restore config\.json"):
        Config.load(tmp_path / "config.json")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(ConfigError, match=r"config\.json: is not UTF-8 text; retrain or restore config\.json"):
        Config.load(tmp_path / "other" / "config.json")


def test_split_modes_are_speaker_or_clip_and_the_old_auto_still_loads():
    from ser.config import SPLIT_MODES

    assert SPLIT_MODES == ("speaker", "clip") and TrainConfig().split_mode == "speaker"
    old = Config().to_dict()
    old["train"]["split_mode"] = "auto"  # what models trained before this wrote
    assert Config.from_dict(old).train.split_mode == "auto"


def test_one_table_of_presets():
    from ser.config import PRESET_TABLE, PRESETS

    assert Config() == for_preset("default")  # the plain config is the default preset, ensemble included
    assert PRESETS == tuple(PRESET_TABLE)
    for name, row in PRESET_TABLE.items():
        t = for_preset(name).train
        assert (t.learning_rate, t.ensemble_size, t.label_smoothing, t.class_weights) == (
            row.learning_rate, row.ensemble_size, row.label_smoothing, row.class_weights)


def test_a_config_written_before_ensembles_loads_as_one_network(tmp_path):
    data = json.loads(json.dumps(for_preset("quick").to_dict()))
    del data["train"]["ensemble_size"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    assert Config.load(tmp_path / "config.json").train.ensemble_size == 1


# Training settings spelled once (issue 20 item 4): each field says what it is; the CLI and the page read it.

def test_every_setting_says_what_it_is_and_its_name():
    import dataclasses

    from ser.config import PRESET_TABLE, SPLIT_MODES, AugmentConfig, settings

    found = {s.name: s for s in settings("train", "augment")}
    assert [s.name for s in settings("train")] == [f.name for f in dataclasses.fields(TrainConfig)]
    assert "augment" in found and found["augment"].field == "enabled"  # for_preset's name for it
    for s in found.values():
        assert s.help and "\n" not in s.help, s.name
    assert found["split_mode"].choices == SPLIT_MODES and found["pooling"].choices == ("last", "mean")
    assert found["patience_epochs"].aliases == ("--patience",)  # the flag the README always named
    assert {s.name for s in found.values() if s.from_preset} == (
        {f.name for f in dataclasses.fields(type(PRESET_TABLE["default"]))} - {"description"})
    assert (found["epochs"].type, found["epochs"].default) == (int, TrainConfig().epochs)
    assert (found["model_seed"].type, found["model_seed"].optional) == (int, True)
    assert (found["augment"].type, found["augment"].default) == (bool, AugmentConfig().enabled)


def test_with_settings_replaces_fields_of_any_section_as_for_preset_does():
    saved = for_preset("quick", epochs=4, seed=3, frame_dropout=0.1)
    assert saved.with_settings(epochs=9, noise_p=0.2, augment=False, prosody=True, target_level_dbfs=-20.0) == \
        for_preset("quick", epochs=9, seed=3, frame_dropout=0.1, noise_p=0.2, augment=False, prosody=True,
                   target_level_dbfs=-20.0)
    assert saved.with_settings() == saved and saved.with_settings(learning_rate=None) == saved  # None: unchanged
    with pytest.raises(ConfigError, match="unknown training setting frame_dropuot; the settings are preset, epochs"):
        saved.with_settings(frame_dropuot=0.1)
    with pytest.raises(ConfigError, match="epochs=0 must be at least 1"):
        saved.with_settings(epochs=0)
