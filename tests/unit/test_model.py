import numpy as np
import pytest

from ser.errors import ConfigError
from ser.model import build_model


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
