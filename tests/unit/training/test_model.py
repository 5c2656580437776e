import numpy as np
import pytest

from ser.errors import ConfigError
from ser.training.model import build_model


@pytest.mark.parametrize("preset", ["quick", "default", "seed"])
def test_presets_map_features_to_8_probabilities(preset):
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((4, 182, 96)) * 10 + 3).astype(np.float32)
    model = build_model(preset, n_features=182, n_frames=96, n_classes=8, train_features=X)
    out = np.asarray(model(X, training=False))
    assert out.shape == (4, 8)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


def test_normalisation_is_learnt_from_training_features_and_saved(tmp_path):
    import keras

    rng = np.random.default_rng(1)
    X = (rng.standard_normal((8, 182, 96)) * 5 + 40).astype(np.float32)
    model = build_model("quick", n_features=182, n_frames=96, n_classes=8, train_features=X)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    norm = keras.Model(loaded.input, loaded.get_layer("feature_norm").output)
    z = np.asarray(norm(X))
    assert abs(z.mean()) < 1e-3 and z.std() == pytest.approx(1.0, abs=1e-2)


def test_default_is_the_recurrent_conv_family():
    model = build_model("default", n_features=182, n_frames=96, n_classes=8)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("Conv1D") == 2 and kinds.count("Bidirectional") == 2
    seed = build_model("seed", n_features=182, n_frames=96, n_classes=8)
    assert [type(layer).__name__ for layer in seed.layers].count("Conv2D") == 6
    assert seed.count_params() > 10 * model.count_params()


def test_unknown_preset():
    with pytest.raises(ConfigError, match="preset='big' is unknown"):
        build_model("big", n_features=182, n_frames=96, n_classes=8)


# Loading a model folder: each model file in turn, and one line when none loads or the parts disagree.

def _model_folder(tmp_path, *, emotions=None):
    from ser.config import Config

    folder = tmp_path / "mine"
    folder.mkdir()
    model = build_model("quick", n_features=182, n_frames=96, n_classes=8)
    model.save(folder / "model.keras")
    model.save(folder / "model.h5")
    config = Config() if emotions is None else Config(emotions=tuple(emotions))
    config = config.with_settings(encoder_member=False)  # a network alone, as built here
    config.save(folder / "config.json")
    return folder


def test_a_damaged_model_keras_falls_back_to_model_h5(tmp_path):
    from ser.serving.predict import Predictor

    folder = _model_folder(tmp_path)
    (folder / "model.keras").write_bytes(b"PK\x03\x04 cut off")
    predictor = Predictor.load(folder)
    assert predictor.predict_networks(np.zeros((1, 182, 96), dtype=np.float32)).shape == (1, 8)


def test_when_no_model_file_loads_each_is_named_damaged(tmp_path):
    from ser.errors import ModelError
    from ser.serving.predict import Predictor

    folder = _model_folder(tmp_path)
    (folder / "model.keras").write_bytes(b"PK\x03\x04 cut off")
    (folder / "model.h5").write_text("not a model")
    with pytest.raises(ModelError, match=r"mine: model\.keras is damaged \(\w+\); model\.h5 is damaged \(\w+\); "
                                         r"retrain or restore it\.$"):
        Predictor.load(folder)


def test_a_model_file_that_is_a_folder_says_so(tmp_path):
    from ser.errors import ModelError
    from ser.serving.predict import Predictor

    folder = _model_folder(tmp_path)
    (folder / "model.keras").unlink()
    (folder / "model.keras").mkdir()
    (folder / "model.h5").unlink()
    with pytest.raises(ModelError, match=r"mine: model\.keras is a folder, not a file; retrain or restore it\.$"):
        Predictor.load(folder)


def test_a_config_naming_7_emotions_for_8_outputs_is_a_model_error(tmp_path):
    from ser import EMOTIONS
    from ser.errors import ModelError
    from ser.serving.predict import Predictor

    folder = _model_folder(tmp_path, emotions=EMOTIONS[:7])
    with pytest.raises(ModelError, match=r"model\.keras: gives 8 probabilities, but its config\.json names 7 "
                                         r"emotions; the folder mixes files of two runs: retrain or restore it\.$"):
        Predictor.load(folder)


# Summary networks: each row's mean, spread and change over the clip; blind to the order of frames.

def test_summary_layer_gives_each_rows_mean_spread_and_change():
    from ser.training.model import summary_layer

    x = np.random.default_rng(2).normal(size=(3, 50, 4)).astype(np.float32)  # (batch, frames, rows)
    out = np.asarray(summary_layer()()(x))
    assert out.shape == (3, 12)
    np.testing.assert_allclose(out[:, :4], x.mean(axis=1), atol=1e-5)
    np.testing.assert_allclose(out[:, 4:8], x.std(axis=1), atol=1e-5)
    np.testing.assert_allclose(out[:, 8:], np.diff(x, axis=1).std(axis=1), atol=1e-5)


def test_a_summary_network_ignores_the_order_of_frames_only_through_its_change_rows(tmp_path):
    from ser.training.model import build_summary_model, load_saved_model

    rng = np.random.default_rng(3)
    X = (rng.standard_normal((6, 182, 96)) * 4 + 10).astype(np.float32)
    model = build_summary_model(n_features=182, n_frames=96, n_classes=8, train_features=X)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert "TemporalSummary" in kinds and "LSTM" not in kinds and "Conv1D" not in kinds
    out = np.asarray(model(X, training=False))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    reversed_frames = np.asarray(model(X[:, :, ::-1].copy(), training=False))  # same mean, spread, |change|
    np.testing.assert_allclose(out, reversed_frames, atol=1e-5)
    shuffled = np.asarray(model(X[:, :, rng.permutation(96)], training=False))  # same mean and spread only
    assert not np.allclose(out, shuffled, atol=1e-4)
    model.save(tmp_path / "model.keras")
    loaded, file = load_saved_model(tmp_path, ("model.keras",))
    np.testing.assert_allclose(np.asarray(loaded(X, training=False)), out, atol=1e-6)
